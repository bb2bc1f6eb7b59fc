package dev.sluice.it;

import static dev.sluice.it.AbuseGateways.ABNORMAL_USAGE;
import static dev.sluice.it.AbuseGateways.ADMIN_TOKEN;
import static dev.sluice.it.AbuseGateways.describe;
import static dev.sluice.it.AbuseGateways.problemType;
import static dev.sluice.it.AbuseGateways.retryAfter;
import static org.assertj.core.api.Assertions.assertThat;

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
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The bans admin API (SPEC §7) on two gateways sharing one redis-server: a ban POSTed to A is
 * enforced by B within a second (B's replica refreshes from the store every 250 ms), a DELETE on
 * B lifts it on A, and nothing works without the bearer token.
 *
 * <p>The gateways are started directly (not through {@link GatewayUnderTest}) because the test
 * needs their admin addresses.
 */
class AbuseAdminApiEndToEndTest {

    private static final String BANNED_IP = "127.0.0.2";
    private static final String BAN_ID = Ban.idOf("search", "ip:" + BANNED_IP);

    @Test
    void banPostedOnGatewayA_enforcedByGatewayBWithinOneSecond_liftedByDelete_andTokenRequired() throws Exception {
        InetAddress banned = InetAddress.getByName(BANNED_IP);
        InetAddress other = InetAddress.getByName("127.0.0.3");
        try (RedisServer redis = RedisServer.start(); FlaskApp app = FlaskApp.start()) {
            SluiceConfig config = AbuseGateways.parse(app.uri(), "  admin_token_env: SLUICE_ADMIN_TOKEN\n", """
                    store:
                      type: redis
                      url: %s
                      timeout: 200ms
                    policies:
                      - name: search
                        match: { paths: ["/api/search"] }
                        by: ip
                        limits: ["1000/minute"]
                    """.formatted(redis.uri()));
            try (RedisStore storeA = connect(redis); RedisStore storeB = connect(redis);
                 Gateway a = Gateway.start(config, storeA, Clock.system());
                 Gateway b = Gateway.start(config, storeB, Clock.system())) {
                String ban = "{\"identity\": {\"kind\": \"ip\", \"value\": \"" + BANNED_IP + "\"},"
                        + " \"duration\": \"10m\", \"policy\": \"search\"}";

                // Without the token, or with a wrong one: 401, and nothing is banned.
                assertThat(admin(a, "GET", "/v1/bans", null, null).status()).isEqualTo(401);
                assertThat(admin(a, "POST", "/v1/bans", "Bearer wrong-token-0123456789abcdef", ban).status())
                        .isEqualTo(401);
                assertThat(admin(a, "POST", "/v1/bans", null, ban).status()).isEqualTo(401);
                Thread.sleep(600); // longer than a replica refresh: a wrongly accepted ban would show
                assertThat(search(b, banned).status()).as("no ban without the token").isEqualTo(200);

                RawHttp.Response posted = admin(a, "POST", "/v1/bans", "Bearer " + ADMIN_TOKEN, ban);
                long postedAt = System.nanoTime();
                assertThat(posted.status()).as(describe(posted)).isIn(200, 201);
                assertThat(posted.bodyText()).as("the answer names the ban's id").contains(BAN_ID);

                RawHttp.Response refused = awaitStatus(b, banned, 429, postedAt);
                assertThat(problemType(refused)).isEqualTo(ABNORMAL_USAGE);
                assertThat(retryAfter(refused)).as("Retry-After = remaining 10 min ban").isBetween(590L, 600L);
                assertThat(search(b, other).status()).as("other addresses are not banned").isEqualTo(200);

                RawHttp.Response listed = admin(b, "GET", "/v1/bans", "Bearer " + ADMIN_TOKEN, null);
                assertThat(listed.status()).isEqualTo(200);
                assertThat(listed.bodyText()).contains(BAN_ID).contains(BANNED_IP);

                assertThat(admin(b, "DELETE", "/v1/bans/" + BAN_ID, null, null).status()).isEqualTo(401);
                RawHttp.Response deleted = admin(b, "DELETE", "/v1/bans/" + BAN_ID, "Bearer " + ADMIN_TOKEN, null);
                long deletedAt = System.nanoTime();
                assertThat(deleted.status()).as(describe(deleted)).isIn(200, 204);
                awaitStatus(a, banned, 200, deletedAt);
                assertThat(admin(a, "GET", "/v1/bans", "Bearer " + ADMIN_TOKEN, null).bodyText())
                        .doesNotContain(BAN_ID);
            }
        }
    }

    private static RedisStore connect(RedisServer redis) {
        return RedisStore.connect(RedisStoreOptions.of(List.of(redis.uri()), Duration.ofMillis(200)));
    }

    /** Polls {@code /api/search} from {@code from} every 50 ms until it answers {@code status}; at most 1 s. */
    private static RawHttp.Response awaitStatus(Gateway gateway, InetAddress from, int status, long since)
            throws InterruptedException {
        long deadline = since + 1_000_000_000L;
        RawHttp.Response last;
        do {
            last = search(gateway, from);
            if (last.status() == status) {
                return last;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("expected " + status + " within 1 s, still " + describe(last));
    }

    private static RawHttp.Response search(Gateway gateway, InetAddress from) {
        return RawHttp.get(gateway.address(), from, "/api/search?q=a", Map.of());
    }

    private static RawHttp.Response admin(Gateway gateway, String method, String target, String authorization,
                                          String json) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (authorization != null) {
            headers.put("Authorization", authorization);
        }
        if (json != null) {
            headers.put("Content-Type", "application/json");
        }
        InetSocketAddress address = gateway.adminAddress();
        return RawHttp.request(address, null, method, target, headers,
                json == null ? null : json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
