package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RawHttp;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * "Never over-admit" over real sockets: many clients at once against one bucket; the upstream's
 * own counter is the judge.
 */
class ConcurrencyEndToEndTest {

    static final int THREADS = 8;
    static final int REQUESTS_PER_THREAD = 6;

    @Test
    void concurrentClients_oneBucket_admitExactlyTheBurstAndUpstreamSeesOnlyThose() throws Throwable {
        String policies = """
                policies:
                  - name: search
                    match: { paths: ["/api/search"] }
                    by: global
                    limits: ["10/minute"]
                """;
        try (FlaskApp app = FlaskApp.start(); GatewayUnderTest gateway = GatewayUnderTest.start(app.uri(), "", policies)) {
            long start = System.nanoTime();
            Counts counts = hammer(thread -> gateway.address());
            double elapsedSeconds = (System.nanoTime() - start) / 1e9;

            // GCRA: admitted <= burst + floor(t * N / period) for any interval t from a fresh bucket.
            long bound = 10 + (long) Math.floor(elapsedSeconds * 10 / 60);
            assertThat(counts.allowed()).isBetween(10, (int) bound);
            assertThat(counts.allowed() + counts.limited()).isEqualTo(THREADS * REQUESTS_PER_THREAD);
            assertThat(app.stats().hits("/api/search")).isEqualTo(counts.allowed());
            Metrics metrics = gateway.metrics();
            assertThat(metrics.requests("search", "allowed")).isEqualTo(counts.allowed());
            assertThat(metrics.requests("search", "limited")).isEqualTo(counts.limited());
        }
    }

    record Counts(int allowed, int limited) {
    }

    /**
     * Sends {@code THREADS x REQUESTS_PER_THREAD} searches, all threads released together; thread
     * {@code i} talks to {@code target.apply(i)}. Any other status, or any exception in a worker,
     * fails the test.
     */
    static Counts hammer(IntFunction<InetSocketAddress> target) throws Throwable {
        AtomicInteger allowed = new AtomicInteger();
        AtomicInteger limited = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            InetSocketAddress address = target.apply(t);
            Thread thread = new Thread(() -> {
                try {
                    go.await();
                    for (int i = 0; i < REQUESTS_PER_THREAD; i++) {
                        int status = RawHttp.get(address, null, "/api/search?q=a", Map.of()).status();
                        if (status == 200) {
                            allowed.incrementAndGet();
                        } else if (status == 429) {
                            limited.incrementAndGet();
                        } else {
                            throw new AssertionError("expected 200 or 429, got " + status);
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "client-" + t);
            thread.start();
            threads.add(thread);
        }
        go.countDown();
        for (Thread thread : threads) {
            thread.join(60_000);
            if (thread.isAlive()) {
                failures.add(new AssertionError(thread.getName() + " did not finish within 60 s"));
            }
        }
        if (!failures.isEmpty()) {
            Throwable first = failures.poll();
            failures.forEach(first::addSuppressed);
            throw first;
        }
        return new Counts(allowed.get(), limited.get());
    }
}
