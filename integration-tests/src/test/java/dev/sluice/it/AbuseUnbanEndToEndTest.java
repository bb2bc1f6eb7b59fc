package dev.sluice.it;

import static dev.sluice.it.AbuseGateways.ABNORMAL_USAGE;
import static dev.sluice.it.AbuseGateways.ADMIN_TOKEN;
import static dev.sluice.it.AbuseGateways.describe;
import static dev.sluice.it.AbuseGateways.login;
import static dev.sluice.it.AbuseGateways.problemType;
import static dev.sluice.it.AbuseGateways.retryAfter;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.SluiceConfig;
import dev.sluice.gateway.Gateway;
import dev.sluice.store.Ban;
import dev.sluice.store.MemoryStore;
import dev.sluice.store.Store;
import dev.sluice.store.redis.RedisStore;
import dev.sluice.store.redis.RedisStoreOptions;
import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RawHttp;
import dev.sluice.testkit.RedisServer;
import dev.sluice.time.Clock;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Lifting a ban lifts it (issue 9, point 5): after {@code DELETE /v1/bans/{id}} the client's next
 * request — a correct login — reaches the app instead of being refused by the bucket that tripped
 * the ban and banned again for twice as long; the offence count is forgotten too, unless the
 * operator asks {@code ?keep_offences=true}. Real gunicorn + Flask, on the memory store and on a
 * real redis-server.
 */
class AbuseUnbanEndToEndTest {

    private static final String POLICIES = """
            policies:
              - name: login-failures
                match: { methods: [POST], paths: ["/auth/login"] }
                by: ip
                count: { status: [401] }
                limits: ["3/hour"]
                penalty: { ban: 10m, escalate: 2x, max: 24h }
            """;
    private static final String ATTACKER = "127.0.0.2";
    private static final String BAN_ID = Ban.idOf("login-failures", "ip:" + ATTACKER);

    @Test
    void memoryStore_unbanClearsBucketAndOffences_keepOffencesKeepsTheCount() throws Exception {
        try (FlaskApp app = FlaskApp.start()) {
            SluiceConfig config = AbuseGateways.parse(app.uri(), "  admin_token_env: SLUICE_ADMIN_TOKEN\n", POLICIES);
            try (Store store = new MemoryStore(Clock.system(), 10_000);
                 Gateway gateway = Gateway.start(config, store, Clock.system())) {
                scenario(gateway, app);
            }
        }
    }

    @Test
    void redisStore_unbanClearsBucketAndOffences_keepOffencesKeepsTheCount() throws Exception {
        try (RedisServer redis = RedisServer.start(); FlaskApp app = FlaskApp.start()) {
            SluiceConfig config = AbuseGateways.parse(app.uri(), "  admin_token_env: SLUICE_ADMIN_TOKEN\n",
                    "store: { type: redis, url: " + redis.uri() + ", timeout: 500ms }\n" + POLICIES);
            try (Store store = RedisStore.connect(RedisStoreOptions.of(List.of(redis.uri()), Duration.ofMillis(500)));
                 Gateway gateway = Gateway.start(config, store, Clock.system())) {
                scenario(gateway, app);
            }
        }
    }

    private static void scenario(Gateway gateway, FlaskApp app) throws Exception {
        InetAddress attacker = InetAddress.getByName(ATTACKER);

        assertThat(trip(gateway, attacker)).as("offence 1: 10 min").isBetween(595L, 600L);
        assertThat(unban(gateway, "").status()).isEqualTo(204);

        long hits = app.stats().hits("/auth/login");
        RawHttp.Response afterUnban = login(gateway.address(), attacker, null, "alice", "wonderland");
        assertThat(afterUnban.status()).as("the first login after the unban: %s", describe(afterUnban)).isEqualTo(200);
        assertThat(app.stats().hits("/auth/login")).as("it reached Flask").isEqualTo(hits + 1);
        assertThat(trip(gateway, attacker)).as("the offence count was forgotten: offence 1 again, 10 min")
                .isBetween(595L, 600L);

        assertThat(unban(gateway, "?keep_offences=true").status()).isEqualTo(204);
        assertThat(login(gateway.address(), attacker, null, "alice", "wonderland").status())
                .as("the bucket is forgotten either way").isEqualTo(200);
        assertThat(trip(gateway, attacker)).as("offence 2 with the count kept: 20 min").isBetween(1195L, 1200L);

        RawHttp.Response bad = unban(gateway, "?keep_offences=maybe");
        assertThat(bad.status()).as(describe(bad)).isEqualTo(400);
        assertThat(bad.bodyText()).contains("keep_offences");
        assertThat(unban(gateway, "?keep_history=true").status()).as("unknown parameter").isEqualTo(400);
        assertThat(unban(gateway, "").status()).isEqualTo(204);
        assertThat(unban(gateway, "").status()).as("nothing left to lift").isEqualTo(404);
    }

    /**
     * Three wrong passwords (counted), then a fourth attempt, which the empty bucket refuses and
     * bans; returns the ban's {@code Retry-After}.
     */
    private static long trip(Gateway gateway, InetAddress attacker) {
        for (int i = 1; i <= 3; i++) {
            RawHttp.Response failed = login(gateway.address(), attacker, null, "alice", "guess" + i);
            assertThat(failed.status()).as("wrong password %d: %s", i, describe(failed)).isEqualTo(401);
        }
        RawHttp.Response banned = login(gateway.address(), attacker, null, "alice", "wonderland");
        assertThat(banned.status()).as(describe(banned)).isEqualTo(429);
        assertThat(problemType(banned)).isEqualTo(ABNORMAL_USAGE);
        return retryAfter(banned);
    }

    private static RawHttp.Response unban(Gateway gateway, String query) {
        return RawHttp.request(gateway.adminAddress(), null, "DELETE", "/v1/bans/" + BAN_ID + query,
                Map.of("Authorization", "Bearer " + ADMIN_TOKEN), null);
    }
}
