package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.gateway.Gateway;
import dev.sluice.store.redis.RedisStore;
import dev.sluice.store.redis.RedisStoreOptions;
import dev.sluice.testkit.RedisServer;
import dev.sluice.time.Clock;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The decision API on the Redis store (a real redis-server): two decision services sharing one
 * Redis admit exactly the limit between them under concurrent clients, a concurrency permit taken
 * through one is held against the other until settled, and a Redis that is down is answered by
 * {@code on_error} like the gateway answers it.
 */
class DecisionApiRedisTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    private static RedisServer redis;

    @BeforeAll
    static void startRedis() {
        redis = RedisServer.start();
    }

    @AfterAll
    static void stopRedis() {
        if (redis != null) {
            redis.stop();
        }
    }

    @BeforeEach
    void fresh() {
        if (redis.isRunning()) {
            redis.flushAll();
        }
    }

    /** One decision-only sluice on its own connection to the shared Redis. */
    private record Service(Gateway gateway, RedisStore store) implements AutoCloseable {
        static Service start(String onError, String policies) {
            String yaml = "version: 1\n"
                    + "gateway: { admin: 127.0.0.1:0 }\n"
                    + "decision: { listen: 127.0.0.1:0 }\n"
                    + "store: { type: redis, url: " + redis.uri() + ", on_error: " + onError + ", timeout: 500ms }\n"
                    + policies;
            SluiceConfig config;
            try {
                config = ConfigLoader.parse(yaml, "redis-decision.yaml");
            } catch (Exception e) {
                throw new AssertionError(yaml, e);
            }
            RedisStore store = RedisStore.connect(RedisStoreOptions.of(config.store().urls(), config.store().timeout()));
            try {
                return new Service(Gateway.start(config, store, Clock.system()), store);
            } catch (RuntimeException e) {
                store.close();
                throw e;
            }
        }

        JsonNode decide(String json) throws Exception {
            HttpResponse<String> r = post("/v1/decide", json);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            return JSON.readTree(r.body());
        }

        HttpResponse<String> post(String path, String json) throws Exception {
            URI uri = URI.create("http://127.0.0.1:" + gateway.decisionApi().orElseThrow().address().getPort() + path);
            return CLIENT.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        }

        @Override
        public void close() {
            gateway.close();
            store.close();
        }
    }

    private static final String POLICIES = """
            policies:
              - name: search
                match: { paths: ["/api/search"] }
                by: "header:X-Tenant"
                limits: ["10/minute"]
              - name: exports
                match: { paths: ["/export"] }
                by: ip
                concurrency: 1
                limits: ["1000/minute"]
            """;

    @Test
    void twoServicesOnOneRedis_8Clients_admitExactlyTheLimit() throws Exception {
        try (Service a = Service.start("deny", POLICIES); Service b = Service.start("deny", POLICIES)) {
            String req = "{\"method\":\"GET\",\"path\":\"/api/search\",\"peer\":\"203.0.113.1\","
                    + "\"identities\":{\"header:X-Tenant\":\"acme\"}}";
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<Integer>> results = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    Service s = t % 2 == 0 ? a : b;
                    results.add(pool.submit((Callable<Integer>) () -> {
                        int admitted = 0;
                        for (int i = 0; i < 5; i++) {
                            JsonNode d = s.decide(req);
                            if (d.get("allowed").asBoolean()) {
                                admitted++;
                            } else {
                                assertThat(d.get("status").asInt()).isEqualTo(429);
                            }
                        }
                        return admitted;
                    }));
                }
                int total = 0;
                for (Future<Integer> r : results) {
                    total += r.get();
                }
                assertThat(total).as("40 requests for a 10/minute bucket shared through Redis").isEqualTo(10);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void concurrencyPermitTakenThroughOneService_isHeldAgainstTheOther_untilSettled() throws Exception {
        try (Service a = Service.start("deny", POLICIES); Service b = Service.start("deny", POLICIES)) {
            String export = "{\"method\":\"GET\",\"path\":\"/export\",\"peer\":\"203.0.113.2\"}";
            JsonNode first = a.decide(export);
            assertThat(first.get("allowed").asBoolean()).isTrue();
            assertThat(b.decide(export).get("status").asInt()).isEqualTo(429);
            assertThat(a.post("/v1/settle", "{\"ticket\":\"" + first.get("ticket").asText() + "\",\"status\":200}")
                    .statusCode()).isEqualTo(204);
            JsonNode again = b.decide(export);
            assertThat(again.get("allowed").asBoolean()).isTrue();
            assertThat(b.post("/v1/settle", "{\"ticket\":\"" + again.get("ticket").asText() + "\",\"status\":200}")
                    .statusCode()).isEqualTo(204);
        }
    }

    @Test
    void redisDown_onErrorDenyIs503_allowLetsThrough() throws Exception {
        try (Service deny = Service.start("deny", POLICIES); Service allow = Service.start("allow", POLICIES)) {
            String req = "{\"method\":\"GET\",\"path\":\"/api/search\",\"peer\":\"203.0.113.3\"}";
            assertThat(deny.decide(req).get("allowed").asBoolean()).isTrue();
            redis.stop();
            try {
                JsonNode refused = deny.decide(req);
                assertThat(refused.get("allowed").asBoolean()).isFalse();
                assertThat(refused.get("status").asInt()).isEqualTo(503);
                assertThat(refused.get("headers").get("Retry-After").asText()).isEqualTo("1");
                assertThat(refused.get("body").get("status").asInt()).isEqualTo(503);
                JsonNode admitted = allow.decide(req);
                assertThat(admitted.get("allowed").asBoolean()).isTrue();
                assertThat(admitted.get("status").asInt()).isEqualTo(200);
            } finally {
                redis.restart();
            }
        }
    }
}
