package dev.sluice.it;

import static dev.sluice.it.AbuseGateways.ABNORMAL_USAGE;
import static dev.sluice.it.AbuseGateways.ADMIN_TOKEN;
import static dev.sluice.it.AbuseGateways.describe;
import static dev.sluice.it.AbuseGateways.login;
import static dev.sluice.it.AbuseGateways.problemType;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.sluice.config.SluiceConfig;
import dev.sluice.gateway.Gateway;
import dev.sluice.store.Ban;
import dev.sluice.store.redis.RedisStore;
import dev.sluice.store.redis.RedisStoreOptions;
import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RawHttp;
import dev.sluice.testkit.RedisServer;
import dev.sluice.time.Clock;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A Redis {@code FLUSHALL} (what a failover to an empty replica also looks like) used to erase
 * every ban silently (issue 9, point 5). Now the gateway notices on its next ban refresh (the
 * generation key is gone), logs it once at WARN, counts it in {@code sluice_store_resets_total},
 * and writes back the bans its replica holds: the operator's ban and the penalty ban are in Redis
 * again and enforced within a refresh interval. Real redis-server, gunicorn + Flask.
 */
class RedisStoreResetEndToEndTest {

    private static final String POLICIES = """
            policies:
              - name: login-failures
                match: { methods: [POST], paths: ["/auth/login"] }
                by: ip
                count: { status: [401] }
                limits: ["2/hour"]
                penalty: { ban: 10m }
              - name: search
                match: { paths: ["/api/search"] }
                by: ip
                limits: ["1000/minute"]
            """;
    private static final String GUESSER = "127.0.0.2";
    private static final String BANNED = "127.0.0.3";

    @Test
    void flushAll_isDetectedLoggedOnceCounted_andBansArePublishedAgainWithinARefresh() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger("dev.sluice.gateway.StoreResets");
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
        try (RedisServer redis = RedisServer.start(); FlaskApp app = FlaskApp.start()) {
            SluiceConfig config = AbuseGateways.parse(app.uri(), "  admin_token_env: SLUICE_ADMIN_TOKEN\n",
                    "store: { type: redis, url: " + redis.uri() + ", timeout: 500ms }\n" + POLICIES);
            try (RedisStore store = RedisStore.connect(RedisStoreOptions.of(List.of(redis.uri()), Duration.ofMillis(500)));
                 Gateway gateway = Gateway.start(config, store, Clock.system())) {
                InetAddress guesser = InetAddress.getByName(GUESSER);
                InetAddress banned = InetAddress.getByName(BANNED);
                RawHttp.Response posted = admin(gateway, "POST", "/v1/bans", "{\"identity\": {\"kind\": \"ip\","
                        + " \"value\": \"" + BANNED + "\"}, \"duration\": \"30m\", \"policy\": \"search\"}");
                assertThat(posted.status()).as(describe(posted)).isEqualTo(201);
                for (int i = 0; i < 2; i++) {
                    assertThat(login(gateway.address(), guesser, null, "alice", "guess" + i).status()).isEqualTo(401);
                }
                RawHttp.Response penalty = login(gateway.address(), guesser, null, "alice", "wonderland");
                assertThat(penalty.status()).as(describe(penalty)).isEqualTo(429);
                String adminBan = Ban.idOf("search", "ip:" + BANNED);
                String penaltyBan = Ban.idOf("login-failures", "ip:" + GUESSER);
                awaitTrue("the first refresh sets the generation",
                        () -> redis.call("GET", "sluice:v1:{bans}:generation") != null);
                assertThat(resets(gateway)).isZero();

                redis.flushAll();
                long flushedAt = System.nanoTime();
                awaitTrue("both bans are in Redis again", () -> {
                    String ids = redis.call("HKEYS", "sluice:v1:{bans}");
                    return ids != null && ids.contains(adminBan) && ids.contains(penaltyBan);
                });
                double seconds = (System.nanoTime() - flushedAt) / 1e9;

                assertThat(seconds).as("within a refresh interval or two (250 ms each)").isLessThan(1.5);
                assertThat(resets(gateway)).isEqualTo(1);
                RawHttp.Response search = RawHttp.get(gateway.address(), banned, "/api/search?q=a", Map.of());
                assertThat(search.status()).as(describe(search)).isEqualTo(429);
                assertThat(problemType(search)).isEqualTo(ABNORMAL_USAGE);
                assertThat(login(gateway.address(), guesser, null, "alice", "wonderland").status())
                        .as("the penalty ban holds too").isEqualTo(429);
                Thread.sleep(1000); // four more refreshes: none may count or log the reset again
                assertThat(resets(gateway)).isEqualTo(1);
                List<ILoggingEvent> warnings = logs.list.stream()
                        .filter(e -> e.getFormattedMessage().contains("the store lost its state")).toList();
                assertThat(warnings).as("logged once").hasSize(1);
                assertThat(warnings.get(0).getLevel().toString()).isEqualTo("WARN");
                assertThat(warnings.get(0).getFormattedMessage()).contains("re-publishing the 2 ban(s)");
            }
        } finally {
            logger.detachAppender(logs);
        }
    }

    private static long resets(Gateway gateway) {
        RawHttp.Response metrics = RawHttp.request(gateway.adminAddress(), null, "GET", "/metrics",
                Map.of("Authorization", "Bearer " + ADMIN_TOKEN), null);
        assertThat(metrics.status()).isEqualTo(200);
        return (long) new Metrics(metrics.bodyText()).sum("sluice_store_resets_total", Map.of());
    }

    private static RawHttp.Response admin(Gateway gateway, String method, String target, String json) {
        return RawHttp.request(gateway.adminAddress(), null, method, target,
                Map.of("Authorization", "Bearer " + ADMIN_TOKEN, "Content-Type", "application/json"),
                json.getBytes(StandardCharsets.UTF_8));
    }

    private static void awaitTrue(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 5 s: " + what);
            }
            Thread.sleep(20);
        }
    }
}
