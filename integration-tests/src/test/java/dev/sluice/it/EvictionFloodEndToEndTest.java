package dev.sluice.it;

import static dev.sluice.it.AbuseGateways.ABNORMAL_USAGE;
import static dev.sluice.it.AbuseGateways.ADMIN_TOKEN;
import static dev.sluice.it.AbuseGateways.describe;
import static dev.sluice.it.AbuseGateways.login;
import static dev.sluice.it.AbuseGateways.problemType;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.store.MemoryStore;
import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RawHttp;
import dev.sluice.time.Clock;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 9, points 2 and 3, replayed against the real gateway in front of gunicorn + Flask with a
 * memory store of a few keys: an attacker who floods another policy with fresh API keys can
 * neither reset its own used-up login bucket (the eviction attack) nor push out an operator's ban
 * or another client's penalty ban (the ban-table flood). Both fail on a store that evicts the
 * bucket closest to full or the ban ending soonest.
 */
class EvictionFloodEndToEndTest {

    private static final int MAX_KEYS = 20;

    @Test
    void usedUpLoginBucket_afterMaxKeysFreshApiKeysOnAnotherPolicy_staysLimited() throws Exception {
        InetAddress attacker = InetAddress.getByName("127.0.0.2");
        InetAddress newcomer = InetAddress.getByName("127.0.0.3");
        String policies = """
                clients:
                  api_key: { header: X-API-Key }
                policies:
                  - name: login
                    match: { methods: [POST], paths: ["/auth/login"] }
                    by: ip
                    limits: ["5/minute"]
                  - name: search
                    match: { paths: ["/api/search"] }
                    by: api_key
                    limits: ["1/hour"]
                """;
        try (FlaskApp app = FlaskApp.start();
             GatewayUnderTest gateway = GatewayUnderTest.start(AbuseGateways.parse(app.uri(), "", policies),
                     new MemoryStore(Clock.system(), MAX_KEYS))) {
            for (int i = 1; i <= 5; i++) {
                assertThat(login(gateway.address(), attacker, null, "alice", "guess" + i).status())
                        .as("guess %d", i).isEqualTo(401);
            }
            RawHttp.Response used = login(gateway.address(), attacker, null, "alice", "guess6");
            assertThat(used.status()).as(describe(used)).isEqualTo(429);

            // The flood: max_keys requests, each with a fresh API key, on another policy. Each new
            // bucket is full again an hour later, long after the login bucket.
            int admitted = 0;
            int refused = 0;
            for (int i = 0; i < MAX_KEYS; i++) {
                RawHttp.Response r = RawHttp.get(gateway.address(), attacker, "/api/search?q=x",
                        Map.of("X-API-Key", "fresh-key-" + i));
                if (r.status() == 200) {
                    admitted++;
                } else {
                    assertThat(r.status()).as(describe(r)).isEqualTo(503);
                    assertThat(r.header("Retry-After")).isEqualTo("1");
                    assertThat(r.bodyText()).contains("new clients are refused until some refill");
                    refused++;
                }
            }
            assertThat(admitted).as("search's share: max_keys / 2 policies").isEqualTo(MAX_KEYS / 2);
            assertThat(refused).isEqualTo(MAX_KEYS / 2);

            for (int i = 7; i <= 12; i++) {
                RawHttp.Response again = login(gateway.address(), attacker, null, "alice", "guess" + i);
                assertThat(again.status()).as("guess %d after the flood: %s", i, describe(again)).isEqualTo(429);
            }
            assertThat(app.stats().hits("/auth/login")).as("no guess past the limit reached Flask").isEqualTo(5);
            assertThat(login(gateway.address(), newcomer, null, "alice", "wonderland").status())
                    .as("login kept its own share for new clients").isEqualTo(200);
            Metrics metrics = gateway.metrics();
            assertThat(metrics.sum("sluice_store_refused_keys_total", Map.of())).isEqualTo(MAX_KEYS / 2);
            assertThat(metrics.sum("sluice_store_evictions_total", Map.of())).isZero();
            assertThat(metrics.sum("sluice_store_errors_total", Map.of())).as("a full store is not an error").isZero();
        }
    }

    @Test
    void operatorAndPenaltyBans_afterAFloodOfAttackerPenaltyBans_stayInForce() throws Exception {
        InetAddress attacker = InetAddress.getByName("127.0.0.2");
        InetAddress victim = InetAddress.getByName("127.0.0.3");
        InetAddress operatorBanned = InetAddress.getByName("127.0.0.4");
        String policies = """
                clients:
                  api_key: { header: X-API-Key }
                policies:
                  - name: login
                    match: { methods: [POST], paths: ["/auth/login"] }
                    by: ip
                    count: { status: [401] }
                    limits: ["1/minute"]
                    penalty: { ban: 10m }
                  - name: search
                    match: { paths: ["/api/search"] }
                    by: api_key
                    limits: ["1/second"]
                    penalty: { ban: 1h, scope: all }
                """;
        try (FlaskApp app = FlaskApp.start();
             GatewayUnderTest gateway = GatewayUnderTest.start(
                     AbuseGateways.parse(app.uri(), "  admin_token_env: SLUICE_ADMIN_TOKEN\n", policies),
                     new MemoryStore(Clock.system(), MAX_KEYS))) {
            // An operator bans an address for 5 minutes; a client earns a 10-minute penalty ban.
            RawHttp.Response posted = admin(gateway, "POST", "/v1/bans",
                    "{\"identity\": {\"kind\": \"ip\", \"value\": \"127.0.0.4\"}, \"duration\": \"5m\"}");
            assertThat(posted.status()).as(describe(posted)).isEqualTo(201);
            assertThat(login(gateway.address(), victim, null, "alice", "guess1").status()).isEqualTo(401);
            RawHttp.Response tripped = login(gateway.address(), victim, null, "alice", "guess2");
            assertThat(problemType(tripped)).as(describe(tripped)).isEqualTo(ABNORMAL_USAGE);

            // The flood: fresh API keys, each tripping search's penalty (a 1-hour ban, longer than
            // both). Buckets of 1/second refill fast, so the flood is limited by the ban table, not
            // by search's share of buckets (a new key that finds it full is retried a moment later).
            for (int i = 0; i < 3 * MAX_KEYS; i++) {
                Map<String, String> key = Map.of("X-API-Key", "minted-" + i);
                RawHttp.Response first = RawHttp.get(gateway.address(), attacker, "/api/search?q=x", key);
                for (int wait = 0; first.status() == 503 && wait < 50; wait++) {
                    Thread.sleep(100);
                    first = RawHttp.get(gateway.address(), attacker, "/api/search?q=x", key);
                }
                assertThat(first.status()).as(describe(first)).isEqualTo(200);
                RawHttp.Response second = RawHttp.get(gateway.address(), attacker, "/api/search?q=x", key);
                assertThat(second.status()).as(describe(second)).isEqualTo(429);
            }
            Thread.sleep(600); // two refreshes of the ban replica from the store

            RawHttp.Response operatorSide = login(gateway.address(), operatorBanned, null, "alice", "wonderland");
            assertThat(operatorSide.status()).as(describe(operatorSide)).isEqualTo(429);
            assertThat(problemType(operatorSide)).isEqualTo(ABNORMAL_USAGE);
            RawHttp.Response victimSide = login(gateway.address(), victim, null, "alice", "wonderland");
            assertThat(victimSide.status()).as(describe(victimSide)).isEqualTo(429);
            assertThat(problemType(victimSide)).isEqualTo(ABNORMAL_USAGE);
            String listed = admin(gateway, "GET", "/v1/bans", null).bodyText();
            assertThat(listed).contains("\"value\":\"127.0.0.4\"", "\"value\":\"127.0.0.3\"");
            Metrics metrics = new Metrics(admin(gateway, "GET", "/metrics", null).bodyText());
            assertThat(metrics.sum("sluice_penalties_refused_total", Map.of()))
                    .as("search's share (max_keys / 2) of penalties recorded, the rest refused")
                    .isEqualTo(3 * MAX_KEYS - MAX_KEYS / 2);
            assertThat(app.stats().hits("/auth/login")).as("banned clients never reached Flask").isEqualTo(1);
        }
    }

    private static RawHttp.Response admin(GatewayUnderTest gateway, String method, String target, String json) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Authorization", "Bearer " + ADMIN_TOKEN);
        if (json != null) {
            headers.put("Content-Type", "application/json");
        }
        InetSocketAddress address = gateway.adminAddress();
        return RawHttp.request(address, null, method, target, headers,
                json == null ? null : json.getBytes(StandardCharsets.UTF_8));
    }
}
