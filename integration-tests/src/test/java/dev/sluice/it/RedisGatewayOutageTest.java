package dev.sluice.it;

import static dev.sluice.it.RedisGatewayFixture.percentileMillis;
import static dev.sluice.it.RedisGatewayFixture.store;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.config.SluiceConfig;
import dev.sluice.it.RedisGatewayFixture.CountingUpstream;
import dev.sluice.it.RedisGatewayFixture.Instance;
import dev.sluice.it.RedisGatewayFixture.Reply;
import dev.sluice.it.RedisGatewayFixture.Run;
import dev.sluice.store.redis.RedisStoreOptions;
import dev.sluice.testkit.RedisServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Redis failing under load, seen from clients of a real gateway: killed (SIGKILL, connection
 * refused) under each {@code on_error}, and hung (SIGSTOP) then thawed. A trivial counting upstream
 * keeps the latency figures about Sluice rather than about gunicorn.
 *
 * <p>Latency: the circuit breaker must keep a dead or hung Redis from adding its timeout to every
 * request. The tests time every request with Redis up and with Redis down and allow "slow"
 * requests (at least half the store timeout) only for those already in flight when Redis went
 * away plus about one probe per probe interval; the p90 while Redis is down must stay far below the
 * timeout.
 */
class RedisGatewayOutageTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofMillis(300);
    /** "Took about the store timeout": a request that waited for Redis until the deadline. */
    private static final long SLOW_NANOS = TIMEOUT.toNanos() * 8 / 10;
    private static final Duration PROBE = RedisStoreOptions.DEFAULT_PROBE_INTERVAL;
    private static final int THREADS = 8;
    private static final Duration UP = Duration.ofMillis(1500);
    private static final Duration DOWN = Duration.ofMillis(3000);
    private static final Duration RECOVERY_BOUND = Duration.ofSeconds(2);

    private static CountingUpstream upstream;

    @BeforeAll
    static void startUpstream() {
        upstream = CountingUpstream.start();
    }

    @AfterAll
    static void stopUpstream() {
        upstream.close();
    }

    @Test
    void redisKilledUnderLoad_onErrorAllow_no5xxRequestsKeepFlowingFastThenLimitingResumesWithin2s() throws Throwable {
        try (RedisServer redis = RedisServer.start()) {
            SluiceConfig config = config(redis, "allow");
            try (Instance gateway = Instance.start(config)) {
                Outage outage = underLoad(gateway, redis, "/open", "allow");

                assertThat(outage.all().stream().filter(r -> r.status() >= 500).count()).as("no 5xx under on_error: allow")
                        .isZero();
                assertThat(outage.all().stream().filter(r -> r.status() != 200).count()).as("every request admitted")
                        .isZero();
                assertThat(outage.down()).as("requests keep flowing while Redis is down").hasSizeGreaterThan(100);
                assertThat(outage.down()).as("fail-open answers carry no RateLimit fields")
                        .noneMatch(Reply::decidedByStore);
                assertThat(outage.up()).allMatch(Reply::decidedByStore);
                // Exactly the requests answered, plus any the gateway sent twice (a reused upstream
                // connection closed before answering; the first attempt may have run).
                long retries = (long) gateway.metrics().sum("sluice_upstream_retries_total", Map.of());
                assertThat(upstream.hits("/open")).isBetween((long) outage.all().size(), (long) outage.all().size() + retries);
                assertThat(outage.readyzDown().status()).isEqualTo(200);
                assertThat(outage.readyzDown().body()).contains("degraded");
                assertThat(outage.readyzAfter().body()).contains("ready").doesNotContain("degraded");
                assertThat(outage.storeErrorsDown()).as("sluice_store_errors_total while down").isPositive();
                assertFastWhileDown(outage, "allow");
                assertThat(outage.recovery()).as("limiting resumes within 2 s of Redis returning")
                        .isLessThan(RECOVERY_BOUND);
            }
        }
    }

    @Test
    void redisKilledUnderLoad_onErrorDeny_503RetryAfter1ProblemJsonReadyz503ThenLimitingResumesWithin2s()
            throws Throwable {
        try (RedisServer redis = RedisServer.start()) {
            SluiceConfig config = config(redis, "deny");
            try (Instance gateway = Instance.start(config)) {
                Outage outage = underLoad(gateway, redis, "/closed", "deny");

                assertThat(outage.up()).allMatch(r -> r.status() == 200 && r.decidedByStore());
                assertThat(outage.down()).as("requests keep being answered while Redis is down")
                        .hasSizeGreaterThan(100);
                // A request already in flight when Redis died may have been decided just before.
                List<Reply> denied = outage.down().stream().filter(r -> r.status() != 200).toList();
                assertThat(denied.size()).isGreaterThan(outage.down().size() - THREADS);
                for (Reply reply : denied) {
                    assertThat(reply.status()).isEqualTo(503);
                    assertThat(reply.header("Retry-After")).isEqualTo("1");
                    assertThat(reply.header("Content-Type")).startsWith("application/problem+json");
                }
                JsonNode problem = JSON.readTree(denied.get(0).body());
                assertThat(problem.path("status").asInt()).isEqualTo(503);
                assertThat(problem.path("title").asText()).isNotBlank();
                assertThat(upstream.hits("/closed")).as("no denied request reached the upstream")
                        .isEqualTo(outage.all().stream().filter(r -> r.status() == 200).count());
                assertThat(outage.readyzDown().status()).isEqualTo(503);
                assertThat(outage.readyzAfter().status()).isEqualTo(200);
                assertThat(outage.storeErrorsDown()).isPositive();
                assertFastWhileDown(outage, "deny");
                assertThat(outage.recovery()).as("limiting resumes within 2 s of Redis returning")
                        .isLessThan(RECOVERY_BOUND);

                // Limiting proper, on a fresh bucket of the restarted (empty) Redis.
                for (int i = 0; i < 3; i++) {
                    assertThat(RedisGatewayFixture.get(gateway.uri("/scarce")).status()).isEqualTo(200);
                }
                Reply limited = RedisGatewayFixture.get(gateway.uri("/scarce"));
                assertThat(limited.status()).isEqualTo(429);
                assertThat(limited.header("Content-Type")).startsWith("application/problem+json");
            }
        }
    }

    @Test
    void redisHungThenThawed_noStaleAdmissionsBoundedLatencyAndNoPileUp() throws Throwable {
        int limit = 40;
        try (RedisServer redis = RedisServer.start()) {
            String yaml = store(redis, "deny", TIMEOUT.toMillis() + "ms")
                    + RedisGatewayFixture.policy("scarce", "/hung", "global", limit + "/hour");
            // 200 requests at once plus the load threads, all from 127.0.0.1: above the default
            // per-address connection cap (100), whose refusals (closed at accept) are not under test.
            SluiceConfig config = GatewayUnderTest.parse(upstream.uri(), "  max_connections_per_ip: 10000\n", yaml);
            try (Instance gateway = Instance.start(config)) {
                for (int i = 0; i < 10; i++) {
                    assertThat(RedisGatewayFixture.get(gateway.uri("/hung")).status()).isEqualTo(200);
                }
                long heapBefore = usedHeapAfterGc();

                // Freeze Redis with 30 tokens left, then load it: the first requests' scripts sit in
                // the frozen server's socket buffer, time out (503), and run after the thaw. They
                // must never turn into admissions, and their late replies never answer anyone else.
                long slowBefore = slowDecisions(gateway);
                redis.pause();
                long pausedAt = System.nanoTime();
                AtomicBoolean stop = new AtomicBoolean();
                AtomicReference<Run> load = new AtomicReference<>();
                AtomicReference<Throwable> loadFailure = new AtomicReference<>();
                Thread driver = new Thread(() -> {
                    try {
                        load.set(RedisGatewayFixture.untilStopped(THREADS, t -> gateway.uri("/hung"), stop));
                    } catch (Throwable e) {
                        loadFailure.set(e);
                    }
                }, "redis-e2e-load");
                List<Reply> openLoop;
                long resuming;
                long burstFrom;
                long burstTo;
                long slowFrozen = -1;
                try {
                    driver.start();
                    Thread.sleep(700); // real-time outage phases
                    // 200 requests at once while Redis is frozen: the gateway must answer them all
                    // promptly instead of queueing work behind the hung connection.
                    burstFrom = System.nanoTime();
                    openLoop = openLoopBurst(gateway, 200);
                    burstTo = System.nanoTime();
                    Thread.sleep(1300);
                } finally {
                    resuming = System.nanoTime();
                    slowFrozen = slowDecisions(gateway) - slowBefore;
                    redis.resume();
                }
                long resumedAt = resuming;
                Thread.sleep(2500); // the breaker probes again and the load drains the bucket
                stop.set(true);
                driver.join(30_000);
                if (loadFailure.get() != null) {
                    throw loadFailure.get();
                }
                List<Reply> all = load.get().replies();
                List<Reply> paused = all.stream()
                        .filter(r -> r.startNanos() >= pausedAt && end(r) <= resumedAt)
                        .toList();
                // The 200-request burst saturates this 2-core machine for a moment; its own check is
                // below, and the latency figures leave out what overlapped it.
                long from = burstFrom;
                long to = burstTo;
                List<Reply> pausedQuiet = paused.stream().filter(r -> end(r) < from || r.startNanos() > to).toList();
                long admitted = 10 + all.stream().filter(r -> r.status() == 200).count()
                        + openLoop.stream().filter(r -> r.status() == 200).count();
                assertThat(all.stream().filter(r -> r.status() != 200 && r.status() != 429 && r.status() != 503))
                        .as("only 200, 429 or 503").isEmpty();
                assertThat(admitted).as("no stale decision admits beyond the limit").isLessThanOrEqualTo(limit);
                assertThat(upstream.hits("/hung")).as("the upstream saw exactly the admitted requests")
                        .isEqualTo(admitted);
                assertThat(all.get(all.size() - 1).status()).as("after the thaw the bucket is drained and limits")
                        .isEqualTo(429);
                assertThat(paused).as("answered while frozen").hasSizeGreaterThan(50).allMatch(r -> r.status() == 503);
                assertThat(openLoop).hasSize(200).allMatch(r -> r.status() == 503);
                long worstNanos = all.stream().mapToLong(Reply::latencyNanos).max().orElse(0);
                // Work queued behind the hung connection would wait for the whole freeze (2 s); a
                // request may wait one timeout plus scheduling noise of this shared machine.
                assertThat(Duration.ofNanos(worstNanos)).as("no request waits for the thaw")
                        .isLessThan(Duration.ofMillis(1500));
                assertThat(Duration.ofNanos((long) (percentileMillis(openLoop, 1.0) * 1e6)))
                        .as("the slowest of 200 simultaneous requests while frozen").isLessThan(Duration.ofMillis(1500));
                long pausedMillis = TimeUnit.NANOSECONDS.toMillis(resumedAt - pausedAt);
                long slowBound = THREADS + pausedMillis / PROBE.toMillis() + 2;
                assertThat(slowFrozen).as("decisions over 250 ms while frozen (%d requests): the first wave + ~1 per"
                        + " probe interval; slowest seen by clients: %s", paused.size() + 200, slowest(pausedQuiet))
                        .isBetween(1L, slowBound);
                assertThat(percentileMillis(pausedQuiet, 0.90)).as("p90 while frozen, ms")
                        .isLessThan(TIMEOUT.toMillis() / 2.0);
                String summary = String.format("[redis-e2e] hung Redis (timeout %d ms, %d clients, frozen %d ms): %d answered"
                                + " while frozen, %d decisions > 250 ms (bound %d), p50 %.1f ms, p90 %.1f ms, p99 %.1f ms,"
                                + " max %.1f ms; open-loop burst of 200: max %.1f ms; admitted %d of %d",
                        TIMEOUT.toMillis(), THREADS, pausedMillis, paused.size(), slowFrozen, slowBound, percentileMillis(pausedQuiet, 0.5),
                        percentileMillis(pausedQuiet, 0.9), percentileMillis(pausedQuiet, 0.99), worstNanos / 1e6,
                        percentileMillis(openLoop, 1.0), admitted, limit);
                // The test's own record of every reply (thousands of HttpResponses with headers and
                // bodies) is tens of MiB by itself: drop it, so that the heap figure is the gateway's.
                load.set(null);
                all = null;
                paused = null;
                pausedQuiet = null;
                openLoop = null;
                long heapDeltaMb = (usedHeapAfterGc() - heapBefore) / (1024 * 1024);
                assertThat(heapDeltaMb).as("heap growth over the outage, MiB").isLessThan(64);
                System.out.printf("%s; heap delta %d MiB%n", summary, heapDeltaMb);
            }
        }
    }

    /** A huge limit on every path used under load, and 3/minute on {@code /scarce}. */
    private static SluiceConfig config(RedisServer redis, String onError) {
        String yaml = store(redis, onError, TIMEOUT.toMillis() + "ms") + """
                policies:
                  - name: load
                    match: { paths: ["/open", "/closed"] }
                    by: global
                    limits: ["1000000/hour"]
                  - name: scarce
                    match: { paths: ["/scarce"] }
                    by: global
                    limits: ["3/minute"]
                """;
        return GatewayUnderTest.parse(upstream.uri(), "", yaml);
    }

    /**
     * What clients saw around an outage: requests started (and finished) while Redis was up,
     * while it was down, and the time from {@code restart()} returning to the first answer decided
     * by Redis again.
     */
    private record Outage(List<Reply> all, List<Reply> up, List<Reply> down, Duration downFor, long slowDecisions,
                          Reply readyzDown,
                          double storeErrorsDown, Reply readyzAfter, Duration recovery) {
    }

    /**
     * {@link #THREADS} clients loop on {@code path}: Redis up for {@link #UP}, killed for
     * {@link #DOWN}, restarted; the load stops once a request is decided by Redis again (or 10 s
     * after the restart).
     */
    private static Outage underLoad(Instance gateway, RedisServer redis, String path, String onError)
            throws Throwable {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Run> load = new AtomicReference<>();
        AtomicReference<Throwable> loadFailure = new AtomicReference<>();
        Thread driver = new Thread(() -> {
            try {
                load.set(RedisGatewayFixture.untilStopped(THREADS, t -> gateway.uri(path), stop));
            } catch (Throwable e) {
                loadFailure.set(e);
            }
        }, "redis-e2e-load");
        long warm = System.nanoTime();
        driver.start();
        Thread.sleep(UP.toMillis()); // real-time phases of an outage scenario

        long killing = System.nanoTime();
        long slowBefore = slowDecisions(gateway);
        redis.kill();
        long killedAt = System.nanoTime(); // requests started from here on can only fail over
        Thread.sleep(DOWN.toMillis() / 2);
        Reply readyzDown = gateway.readyz();
        double storeErrors = gateway.metrics().sum("sluice_store_errors_total", Map.of());
        Thread.sleep(DOWN.toMillis() / 2);
        long restartingAt = System.nanoTime();
        long slowDown = slowDecisions(gateway) - slowBefore;
        redis.restart();
        long restartedAt = System.nanoTime();

        // Poll on our own connection too, so recovery is measured even if the load is slow.
        List<Reply> probes = new ArrayList<>();
        long recoveredAt = -1;
        long deadline = restartedAt + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            Reply probe = RedisGatewayFixture.get(gateway.uri(path));
            probes.add(probe);
            if (probe.decidedByStore()) {
                recoveredAt = probe.startNanos() + probe.latencyNanos();
                break;
            }
            Thread.sleep(20);
        }
        stop.set(true);
        driver.join(30_000);
        if (loadFailure.get() != null) {
            throw loadFailure.get();
        }
        Reply readyzAfter = gateway.readyz();
        List<Reply> all = new ArrayList<>(load.get().replies());
        all.addAll(probes);
        long warmedUp = warm + TimeUnit.MILLISECONDS.toNanos(300);
        List<Reply> up = all.stream().filter(r -> r.startNanos() >= warmedUp && end(r) <= killing).toList();
        List<Reply> down = all.stream().filter(r -> r.startNanos() >= killedAt && end(r) <= restartingAt).toList();
        assertThat(recoveredAt).as("Redis-backed decisions within 10 s of the restart").isPositive();
        Duration recovery = Duration.ofNanos(recoveredAt - restartedAt);

        System.out.printf("[redis-e2e] Redis killed (on_error %s, timeout %d ms, %d clients): up: %d requests, "
                        + "p50 %.1f / p90 %.1f / p99 %.1f ms; down %d ms: %d requests, p50 %.1f / p90 %.1f / p99 %.1f /"
                        + " max %.1f ms, %d slow (>= %d ms), %d decisions > 250 ms; readyz down %d %s; store errors %s; decisions from Redis"
                        + " again %d ms after restart%n",
                onError, TIMEOUT.toMillis(), THREADS, up.size(), percentileMillis(up, 0.5),
                percentileMillis(up, 0.9), percentileMillis(up, 0.99), TimeUnit.NANOSECONDS.toMillis(restartingAt - killedAt),
                down.size(), percentileMillis(down, 0.5), percentileMillis(down, 0.9), percentileMillis(down, 0.99),
                percentileMillis(down, 1.0), down.stream().filter(r -> r.latencyNanos() >= SLOW_NANOS).count(),
                TimeUnit.NANOSECONDS.toMillis(SLOW_NANOS), slowDown, readyzDown.status(), readyzDown.body().strip(),
                (long) storeErrors, recovery.toMillis());
        return new Outage(all, up, down, Duration.ofNanos(restartingAt - killedAt), slowDown, readyzDown, storeErrors,
                readyzAfter, recovery);
    }

    /**
     * The circuit breaker keeps the outage from adding the store timeout to every request: the
     * gateway's own decision histogram (free of client and upstream noise on a shared machine)
     * may show a timeout only for the requests in flight when Redis went away plus about one probe
     * per probe interval; and clients' p90 stays well under the timeout.
     */
    private static void assertFastWhileDown(Outage outage, String onError) {
        long bound = THREADS + outage.downFor().toMillis() / PROBE.toMillis() + 2;
        assertThat(outage.slowDecisions()).as("on_error %s: decisions over 250 ms while Redis was down (%d requests);"
                + " slowest seen by clients: %s", onError, outage.down().size(), slowest(outage.down()))
                .isLessThanOrEqualTo(bound);
        assertThat(percentileMillis(outage.down(), 0.90)).as("on_error %s: p90 while Redis is down, ms", onError)
                .isLessThan(TIMEOUT.toMillis() / 2.0);
    }

    /**
     * Decisions that took longer than 250 ms so far, from {@code sluice_decision_seconds}: with a
     * 300 ms store timeout, the ones that waited for Redis until the deadline.
     */
    private static long slowDecisions(Instance gateway) {
        Metrics metrics = gateway.metrics();
        double count = metrics.sum("sluice_decision_seconds_count", Map.of());
        double fast = metrics.sum("sluice_decision_seconds_bucket", Map.of("le", "0.25"));
        if (count > 0 && fast == 0) {
            throw new AssertionError("no sluice_decision_seconds_bucket{le=\"0.25\"} in /metrics:\n" + metrics);
        }
        return (long) (count - fast);
    }

    /** {@code count} requests sent at once (HttpClient async, one connection each as needed). */
    private static List<Reply> openLoopBurst(Instance gateway, int count) {
        List<CompletableFuture<Reply>> pending = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            HttpRequest request = HttpRequest.newBuilder(gateway.uri("/hung")).timeout(Duration.ofSeconds(10)).build();
            long start = System.nanoTime();
            pending.add(RedisGatewayFixture.HTTP.sendAsync(request, HttpResponse.BodyHandlers.ofString())
                    .thenApply(response -> new Reply(response.statusCode(), response, start, System.nanoTime() - start)));
        }
        return pending.stream().map(CompletableFuture::join).toList();
    }

    /** The ten longest latencies in ms with their start relative to the first reply, for failure messages. */
    private static String slowest(List<Reply> replies) {
        long origin = replies.stream().mapToLong(Reply::startNanos).min().orElse(0);
        return replies.stream().sorted((a, b) -> Long.compare(b.latencyNanos(), a.latencyNanos())).limit(10)
                .map(r -> String.format("%.0f ms at +%d ms", r.latencyMillis(),
                        TimeUnit.NANOSECONDS.toMillis(r.startNanos() - origin)))
                .toList().toString();
    }

    private static long end(Reply reply) {
        return reply.startNanos() + reply.latencyNanos();
    }

    private static long usedHeapAfterGc() {
        Runtime runtime = Runtime.getRuntime();
        System.gc();
        return runtime.totalMemory() - runtime.freeMemory();
    }
}
