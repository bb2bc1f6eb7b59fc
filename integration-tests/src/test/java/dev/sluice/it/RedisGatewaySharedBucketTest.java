package dev.sluice.it;

import static dev.sluice.it.RedisGatewayFixture.burst;
import static dev.sluice.it.RedisGatewayFixture.policy;
import static dev.sluice.it.RedisGatewayFixture.store;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.SluiceConfig;
import dev.sluice.it.RedisGatewayFixture.CountingUpstream;
import dev.sluice.it.RedisGatewayFixture.Instance;
import dev.sluice.it.RedisGatewayFixture.Reply;
import dev.sluice.it.RedisGatewayFixture.Run;
import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RedisServer;
import dev.sluice.time.Clock;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue "Distributed Sluice" at the gateway level: several real gateways (in-process, real
 * sockets) each with its own Redis connection, one real redis-server, real Flask under gunicorn
 * (or a trivial counting upstream where 1,000 forwards through gunicorn would dominate the run
 * time). The bucket is shared: the totals are exact, whichever gateway a client talks to, whatever
 * a gateway's clock says, and across a gateway restart.
 *
 * <p>Exactness holds while the run ends before the bucket's first refill (6 s for
 * {@code 10/minute}, 3.6 s for {@code 1000/hour}); a typical run takes 0.1–0.8 s and 2–3 s. A run
 * slowed past that by a loaded machine is held to SPEC §2's bound instead (one more per emission
 * interval elapsed), never to less.
 */
class RedisGatewaySharedBucketTest {

    private static final int THREADS = 16;
    private static final Duration SKEW = Duration.ofSeconds(30);
    /** 16 x 66 = 1,056 requests for a 1000/hour bucket: 56 over. */
    private static final int PER_THREAD_FOR_1000 = 66;

    private static FlaskApp flask;
    private static CountingUpstream upstream;
    private static RedisServer redis;

    @BeforeAll
    static void startProcesses() {
        redis = RedisServer.start();
        flask = FlaskApp.start();
        upstream = CountingUpstream.start();
    }

    @AfterAll
    static void stopProcesses() {
        upstream.close();
        flask.stop();
        redis.stop();
    }

    @BeforeEach
    void freshState() {
        redis.flushAll();
        flask.reset();
    }

    @Test
    void twoGateways_16Clients_tenPerMinute_admitExactlyTenAndFlaskSeesExactlyThose() throws Throwable {
        sharedTenPerMinute(Clock.system(), Clock.system(), "search");
    }

    @Test
    void twoGateways_16Clients_thousandPerHour_admitExactlyThousandAndUpstreamSeesExactlyThose() throws Throwable {
        sharedThousandPerHour(Clock.system(), Clock.system(), "/bulk");
    }

    @Test
    void gatewayClocksSkewedBy30sEachWay_sameExactTotals() throws Throwable {
        // The decision script reads Redis's TIME; a gateway's clock must not matter at all.
        Clock ahead = skewed(SKEW.toNanos());
        Clock behind = skewed(-SKEW.toNanos());
        sharedTenPerMinute(ahead, behind, "search");
        sharedThousandPerHour(ahead, behind, "/bulk-skewed");
    }

    @Test
    void gatewayRestarted_sameRedis_identityStaysLimitedOthersNot() throws Throwable {
        String yaml = store(redis, "deny", "2s") + policy("items", "/api/items", "header:X-Tenant", "3/minute");
        SluiceConfig config = GatewayUnderTest.parse(flask.uri(), "", yaml);

        try (Instance first = Instance.start(config)) {
            for (int i = 0; i < 3; i++) {
                assertThat(items(first, "tenant-a").status()).as("request %d of 3", i + 1).isEqualTo(200);
            }
            assertThat(items(first, "tenant-a").status()).isEqualTo(429);
        }

        try (Instance second = Instance.start(config)) {
            Reply limited = items(second, "tenant-a");
            assertThat(limited.status()).as("the bucket lives in Redis, not in the closed gateway: %s", limited.body())
                    .isEqualTo(429);
            assertThat(Long.parseLong(limited.header("Retry-After"))).isBetween(1L, 20L);
            assertThat(limited.body()).contains("\"policy\":\"items\"");
            assertThat(items(second, "tenant-b").status()).as("another identity still has its own full bucket")
                    .isEqualTo(200);
        }
        assertThat(flask.stats().hits("/api/items")).isEqualTo(4);
    }

    /** 10/minute on {@code global}: 16 threads x 4 requests, even threads on one gateway, odd on the other. */
    private static void sharedTenPerMinute(Clock firstClock, Clock secondClock, String policyName) throws Throwable {
        String yaml = store(redis, "deny", "2s") + policy(policyName, "/api/search", "global", "10/minute");
        SluiceConfig config = GatewayUnderTest.parse(flask.uri(), "", yaml);
        try (Instance first = Instance.start(config, firstClock);
             Instance second = Instance.start(config, secondClock)) {
            Run run = burst(THREADS, 4, t -> (t % 2 == 0 ? first : second).uri("/api/search?q=a"));

            assertThat(run.countOutside(200, 429)).as("only 200 or 429 (a 503 means Redis missed the 2 s timeout on this machine)").isZero();
            long admitted = run.count(200);
            assertThat(admitted).as("exactly 10 (+1 per 6 s the run took: %.2f s)", run.elapsedSeconds())
                    .isBetween(10L, gcraBound(10, Duration.ofMinutes(1), run));
            assertThat(run.count(429)).isEqualTo(THREADS * 4 - admitted);
            assertThat(flask.stats().hits("/api/search")).as("Flask saw exactly the admitted requests")
                    .isEqualTo(admitted);
            assertThat(first.metrics().requests(policyName, "allowed") + second.metrics().requests(policyName, "allowed"))
                    .isEqualTo(admitted);
            assertThat(first.metrics().requests(policyName, "limited")).as("both gateways limited some").isPositive();
            assertThat(second.metrics().requests(policyName, "limited")).isPositive();
            System.out.printf("[redis-e2e] 10/minute, 2 gateways, %d clients: %d x 200, %d x 429 in %.2f s%n",
                    THREADS, run.count(200), run.count(429), run.elapsedSeconds());
        }
    }

    /** 1000/hour on {@code global}: 16 threads x 66 requests = 1,056 (56 over), normally within 3.6 s. */
    private static void sharedThousandPerHour(Clock firstClock, Clock secondClock, String path) throws Throwable {
        String yaml = store(redis, "deny", "2s") + policy("bulk", path, "global", "1000/hour");
        SluiceConfig config = GatewayUnderTest.parse(upstream.uri(), "", yaml);
        try (Instance first = Instance.start(config, firstClock);
             Instance second = Instance.start(config, secondClock)) {
            Run run = burst(THREADS, PER_THREAD_FOR_1000, t -> (t % 2 == 0 ? first : second).uri(path));

            assertThat(run.countOutside(200, 429)).as("only 200 or 429 (a 503 means Redis missed the 2 s timeout on this machine)").isZero();
            long admitted = run.count(200);
            assertThat(admitted).as("exactly 1000 (+1 per 3.6 s the run took: %.2f s)", run.elapsedSeconds())
                    .isBetween(1000L, gcraBound(1000, Duration.ofHours(1), run));
            assertThat(run.count(429)).isEqualTo(THREADS * PER_THREAD_FOR_1000 - admitted);
            assertThat(upstream.hits(path)).as("the upstream saw exactly the admitted requests").isEqualTo(admitted);
            System.out.printf("[redis-e2e] 1000/hour, 2 gateways, %d clients: %d x 200, %d x 429 in %.2f s%n",
                    THREADS, run.count(200), run.count(429), run.elapsedSeconds());
        }
    }

    private static Reply items(Instance gateway, String tenant) throws Exception {
        URI uri = gateway.uri("/api/items");
        HttpRequest request = HttpRequest.newBuilder(uri).header("X-Tenant", tenant)
                .timeout(Duration.ofSeconds(15)).build();
        long start = System.nanoTime();
        HttpResponse<String> response = RedisGatewayFixture.HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        return new Reply(response.statusCode(), response, start, System.nanoTime() - start);
    }

    /**
     * SPEC §2's GCRA bound for a fresh bucket, {@code burst + floor(t * N / period)}: exactly the
     * burst while the run is shorter than one emission interval (the normal case; the figure is
     * printed), never more however slow a shared machine makes it.
     */
    private static long gcraBound(long n, Duration period, Run run) {
        return n + (long) Math.floor(run.elapsedNanos() * (double) n / period.toNanos());
    }

    private static Clock skewed(long offsetNanos) {
        return () -> System.nanoTime() + offsetNanos;
    }
}
