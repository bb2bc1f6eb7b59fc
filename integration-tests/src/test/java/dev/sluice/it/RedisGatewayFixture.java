package dev.sluice.it;

import com.sun.net.httpserver.HttpServer;
import dev.sluice.config.SluiceConfig;
import dev.sluice.gateway.Gateway;
import dev.sluice.store.redis.RedisStore;
import dev.sluice.store.redis.RedisStoreOptions;
import dev.sluice.testkit.RedisServer;
import dev.sluice.time.Clock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * What the {@code RedisGateway*} tests share: real gateways ({@link Gateway#start}) each on its own
 * {@link RedisStore} connected exactly as {@code sluice serve} connects it, a trivial counting
 * upstream for runs where Flask's own throughput would dominate, a keep-alive HTTP client that
 * records every response's status and latency, and a load runner whose workers collect their
 * throwables for the test to rethrow.
 *
 * <p>Not a test: surefire only runs {@code *Test} classes.
 */
final class RedisGatewayFixture {

    static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();

    private RedisGatewayFixture() {
    }

    /** The {@code store:} section for {@code redis} with the given {@code on_error} and timeout. */
    static String store(RedisServer redis, String onError, String timeout) {
        return "store:\n"
                + "  type: redis\n"
                + "  url: " + redis.uri() + "\n"
                + "  on_error: " + onError + "\n"
                + "  timeout: " + timeout + "\n";
    }

    /** One policy on {@code path} for one {@code by} identity with one limit. */
    static String policy(String name, String path, String by, String limit) {
        return "policies:\n"
                + "  - name: " + name + "\n"
                + "    match: { paths: [\"" + path + "\"] }\n"
                + "    by: " + by + "\n"
                + "    limits: [\"" + limit + "\"]\n";
    }

    /**
     * A gateway started the way {@code sluice serve} starts one on {@code store.type: redis}:
     * its own {@code RedisStore.connect(RedisStoreOptions.of(urls, timeout))}, closed with it.
     */
    static final class Instance implements AutoCloseable {
        private final Gateway gateway;
        private final RedisStore store;

        private Instance(Gateway gateway, RedisStore store) {
            this.gateway = gateway;
            this.store = store;
        }

        static Instance start(SluiceConfig config) {
            return start(config, Clock.system());
        }

        static Instance start(SluiceConfig config, Clock clock) {
            RedisStore store = RedisStore.connect(
                    RedisStoreOptions.of(config.store().urls(), config.store().timeout()));
            try {
                return new Instance(Gateway.start(config, store, clock), store);
            } catch (RuntimeException e) {
                store.close();
                throw e;
            }
        }

        InetSocketAddress address() {
            return gateway.address();
        }

        URI uri(String target) {
            return URI.create("http://127.0.0.1:" + gateway.address().getPort() + target);
        }

        URI adminUri(String path) {
            return URI.create("http://127.0.0.1:" + gateway.adminAddress().getPort() + path);
        }

        Metrics metrics() {
            Reply reply = get(adminUri("/metrics"));
            if (reply.status() != 200) {
                throw new IllegalStateException("GET /metrics answered " + reply.status() + ": " + reply.body());
            }
            return new Metrics(reply.body());
        }

        Reply readyz() {
            return get(adminUri("/readyz"));
        }

        @Override
        public void close() {
            try {
                gateway.close();
            } finally {
                store.close();
            }
        }
    }

    /** One response as the tests see it. */
    record Reply(int status, HttpResponse<String> response, long startNanos, long latencyNanos) {

        String body() {
            return response.body();
        }

        String header(String name) {
            return response.headers().firstValue(name).orElse(null);
        }

        /** Whether the store decided it: only store-decided answers carry the RateLimit fields. */
        boolean decidedByStore() {
            return header("RateLimit") != null;
        }

        double latencyMillis() {
            return latencyNanos / 1e6;
        }
    }

    /** {@code GET uri} on the shared keep-alive client; I/O failures are rethrown unchecked. */
    static Reply get(URI uri) {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(15)).GET().build();
        long start = System.nanoTime();
        try {
            HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            return new Reply(response.statusCode(), response, start, System.nanoTime() - start);
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + uri + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during GET " + uri, e);
        }
    }

    /**
     * The smallest possible upstream: {@code 200 ok} for everything, counting hits per path, on
     * {@code 127.0.0.1:0}. For runs where gunicorn's own throughput would dominate the timing.
     */
    static final class CountingUpstream implements AutoCloseable {
        private final HttpServer server;
        private final ExecutorService executor = Executors.newFixedThreadPool(16);
        private final ConcurrentHashMap<String, AtomicLong> hits = new ConcurrentHashMap<>();

        private CountingUpstream(HttpServer server) {
            this.server = server;
        }

        static CountingUpstream start() {
            // The JDK server writes the head and the body separately; without TCP_NODELAY Nagle's
            // algorithm meets the gateway's delayed ACK and every forward costs ~40 ms.
            System.setProperty("sun.net.httpserver.nodelay", "true");
            try {
                HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
                CountingUpstream upstream = new CountingUpstream(server);
                server.createContext("/", exchange -> {
                    upstream.hits.computeIfAbsent(exchange.getRequestURI().getPath(), p -> new AtomicLong())
                            .incrementAndGet();
                    exchange.getRequestBody().readAllBytes();
                    byte[] body = "ok\n".getBytes(StandardCharsets.US_ASCII);
                    exchange.getResponseHeaders().add("Content-Type", "text/plain");
                    exchange.sendResponseHeaders(200, body.length);
                    exchange.getResponseBody().write(body);
                    exchange.close();
                });
                server.setExecutor(upstream.executor);
                server.start();
                return upstream;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start the counting upstream", e);
            }
        }

        URI uri() {
            return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        }

        long hits(String path) {
            AtomicLong count = hits.get(path);
            return count == null ? 0 : count.get();
        }

        @Override
        public void close() {
            server.stop(0);
            executor.shutdownNow();
        }
    }

    /** Everything a load run observed, in completion order per worker. */
    record Run(List<Reply> replies, long elapsedNanos) {

        long count(int status) {
            return replies.stream().filter(r -> r.status() == status).count();
        }

        long countOutside(int... statuses) {
            return replies.stream().filter(r -> Arrays.stream(statuses).noneMatch(s -> s == r.status())).count();
        }

        double elapsedSeconds() {
            return elapsedNanos / 1e9;
        }
    }

    /**
     * {@code threads} workers released together; worker {@code i} sends {@code perThread} requests
     * to {@code target.apply(i)}. Any exception in a worker fails the run (rethrown here, the
     * others suppressed); a worker not done within 60 s fails it too.
     */
    static Run burst(int threads, int perThread, IntFunction<URI> target) throws Throwable {
        return run(threads, target, perThread, null);
    }

    /**
     * Like {@link #burst} but each worker keeps sending until {@code stop} is set (after at least
     * one request). Returns when every worker has stopped.
     */
    static Run untilStopped(int threads, IntFunction<URI> target, AtomicBoolean stop) throws Throwable {
        return run(threads, target, Integer.MAX_VALUE, stop);
    }

    private static Run run(int threads, IntFunction<URI> target, int perThread, AtomicBoolean stop) throws Throwable {
        ConcurrentLinkedQueue<Reply> replies = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            URI uri = target.apply(t);
            Thread worker = new Thread(() -> {
                try {
                    go.await();
                    for (int i = 0; i < perThread && (stop == null || !stop.get()); i++) {
                        replies.add(get(uri));
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "redis-e2e-client-" + t);
            worker.start();
            workers.add(worker);
        }
        long start = System.nanoTime();
        go.countDown();
        for (Thread worker : workers) {
            worker.join(60_000);
            if (worker.isAlive()) {
                failures.add(new AssertionError(worker.getName() + " did not finish within 60 s"));
            }
        }
        long elapsed = System.nanoTime() - start;
        if (!failures.isEmpty()) {
            Throwable first = failures.poll();
            failures.forEach(first::addSuppressed);
            throw first;
        }
        return new Run(List.copyOf(replies), elapsed);
    }

    /** The q-quantile (0..1) of the latencies in milliseconds; 0 for no replies. */
    static double percentileMillis(List<Reply> replies, double q) {
        if (replies.isEmpty()) {
            return 0;
        }
        long[] sorted = replies.stream().mapToLong(Reply::latencyNanos).sorted().toArray();
        int index = (int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
        return sorted[Math.max(0, index)] / 1e6;
    }
}
