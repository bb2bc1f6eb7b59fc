package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.config.SluiceConfig;
import dev.sluice.store.redis.RedisStore;
import dev.sluice.store.redis.RedisStoreOptions;
import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RawHttp;
import dev.sluice.testkit.RedisServer;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Gateways on the Redis store, against a real redis-server that the tests share, kill and restart. */
class RedisStoreEndToEndTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static FlaskApp app;

    @BeforeAll
    static void startApp() {
        app = FlaskApp.start();
    }

    @AfterAll
    static void stopApp() {
        app.stop();
    }

    @BeforeEach
    void resetCounters() {
        app.reset();
    }

    @Test
    void twoGateways_sharingRedis_admitTogetherNoMoreThanTheLimit() throws Throwable {
        try (RedisServer redis = RedisServer.start()) {
            String rest = store(redis, "allow") + """
                    policies:
                      - name: search
                        match: { paths: ["/api/search"] }
                        by: global
                        limits: ["10/minute"]
                    """;
            SluiceConfig config = GatewayUnderTest.parse(app.uri(), "", rest);
            try (GatewayUnderTest first = GatewayUnderTest.start(config, connect(config));
                 GatewayUnderTest second = GatewayUnderTest.start(config, connect(config))) {
                long start = System.nanoTime();
                ConcurrencyEndToEndTest.Counts counts = ConcurrencyEndToEndTest.hammer(
                        thread -> thread % 2 == 0 ? first.address() : second.address());
                double elapsedSeconds = (System.nanoTime() - start) / 1e9;

                long bound = 10 + (long) Math.floor(elapsedSeconds * 10 / 60);
                assertThat(counts.allowed()).isBetween(10, (int) bound);
                assertThat(app.stats().hits("/api/search")).isEqualTo(counts.allowed());
                assertThat(first.metrics().requests("search", "allowed")).as("both gateways admitted some")
                        .isPositive();
                assertThat(second.metrics().requests("search", "limited")).isPositive();
            }
        }
    }

    @Test
    void redisKilled_onErrorDenyAndPolicyAllow_503AndAdmitThenRecoverWhenRedisReturns() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            String rest = store(redis, "deny") + """
                    policies:
                      - name: items
                        match: { paths: ["/api/items"] }
                        by: ip
                        limits: ["100/minute"]
                      - name: search
                        match: { paths: ["/api/search"] }
                        by: ip
                        limits: ["100/minute"]
                        on_error: allow
                    """;
            SluiceConfig config = GatewayUnderTest.parse(app.uri(), "", rest);
            try (GatewayUnderTest gateway = GatewayUnderTest.start(config, connect(config))) {
                assertThat(get(gateway, "/api/items").status()).isEqualTo(200);

                redis.kill();

                RawHttp.Response denied = get(gateway, "/api/items");
                assertThat(denied.status()).as(denied.bodyText()).isEqualTo(503);
                assertThat(denied.header("Retry-After")).isEqualTo("1");
                assertThat(denied.header("Content-Type")).startsWith("application/problem+json");
                assertThat(JSON.readTree(denied.body()).path("status").asInt()).isEqualTo(503);
                assertThat(get(gateway, "/api/search").status()).as("the policy's on_error: allow wins")
                        .isEqualTo(200);
                assertThat(app.stats().hits("/api/items")).as("the denied request never reached Flask").isEqualTo(1);

                redis.restart();

                await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200))
                        .until(() -> get(gateway, "/api/items").status() == 200);
            }
        }
    }

    private static String store(RedisServer redis, String onError) {
        return "store:\n"
                + "  type: redis\n"
                + "  url: " + redis.uri() + "\n"
                + "  on_error: " + onError + "\n"
                + "  timeout: 250ms\n";
    }

    private static RedisStore connect(SluiceConfig config) {
        return RedisStore.connect(RedisStoreOptions.of(config.store().urls(), config.store().timeout()));
    }

    private static RawHttp.Response get(GatewayUnderTest gateway, String target) {
        return RawHttp.get(gateway.address(), null, target, Map.of());
    }
}
