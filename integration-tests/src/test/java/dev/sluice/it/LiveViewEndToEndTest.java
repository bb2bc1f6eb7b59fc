package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RawHttp;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /v1/top} and {@code GET /v1/stats} (SPEC §10) on a real gateway in front of the real
 * example app (gunicorn): traffic that is limited shows up per policy with counts, secrets only as
 * the audit log's hash, bad parameters are 400 problem+json, and with an admin token both need it.
 */
class LiveViewEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET_KEY = "live-secret-key-0123456789";
    private static final String POLICIES = """
            clients:
              api_key: { header: X-API-Key }
            policies:
              - name: search
                match: { paths: ["/api/search"] }
                by: ip
                limits: ["3/minute"]
              - name: items-by-key
                match: { paths: ["/api/items"] }
                by: api_key
                limits: ["2/minute"]
                mode: shadow
            """;

    @Test
    void limitedTraffic_appearsInTopAndStats_secretsHashed_badParams400() {
        try (FlaskApp app = FlaskApp.start();
             GatewayUnderTest gateway = GatewayUnderTest.start(app.uri(), "", POLICIES)) {
            for (int i = 0; i < 7; i++) {
                RawHttp.get(gateway.address(), null, "/api/search?q=a", Map.of());
            }
            for (int i = 0; i < 5; i++) {
                // Shadow never refuses (the app itself may answer 401 for a key it does not know).
                assertThat(RawHttp.get(gateway.address(), null, "/api/items", Map.of("X-API-Key", SECRET_KEY)).status())
                        .as("shadow never refuses").isNotEqualTo(429);
            }

            RawHttp.Response top = admin(gateway.adminAddress(), "/v1/top?window=5m&limit=20", null);
            assertThat(top.status()).as(top.bodyText()).isEqualTo(200);
            assertThat(top.bodyText()).as("the raw API key never leaves the gateway").doesNotContain(SECRET_KEY);
            JsonNode body = json(top);
            assertThat(body.get("window").asText()).isEqualTo("5m");
            JsonNode search = policy(body, "search");
            assertThat(search.get("events").asLong()).isEqualTo(4);
            JsonNode first = search.get("top").get(0);
            assertThat(first.get("kind").asText()).isEqualTo("ip");
            assertThat(first.get("value").asText()).isEqualTo("127.0.0.1");
            assertThat(first.get("count").asLong()).isEqualTo(4);
            assertThat(first.get("limited").asLong()).isEqualTo(4);
            assertThat(first.get("last_seen").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
            JsonNode key = policy(body, "items-by-key").get("top").get(0);
            assertThat(key.get("kind").asText()).isEqualTo("api_key");
            assertThat(key.get("value").asText()).as("the audit log's short hash").matches("[0-9a-f]{8,64}");
            assertThat(key.get("shadow_limited").asLong()).isEqualTo(3);
            assertThat(body.get("top").get(0).get("policy").asText()).isEqualTo("search");
            assertThat(json(admin(gateway.adminAddress(), "/v1/top?window=60m&limit=1", null)).get("top")).hasSize(1);

            RawHttp.Response stats = admin(gateway.adminAddress(), "/v1/stats", null);
            assertThat(stats.status()).as(stats.bodyText()).isEqualTo(200);
            assertThat(stats.bodyText()).doesNotContain(SECRET_KEY);
            JsonNode s = json(stats);
            JsonNode searchStats = policy(s, "search");
            assertThat(searchStats.get("last_minute").get("allowed").asLong()).isEqualTo(3);
            assertThat(searchStats.get("last_minute").get("limited").asLong()).isEqualTo(4);
            assertThat(searchStats.get("series").get("limited")).hasSize(60);
            assertThat(policy(s, "items-by-key").get("last_minute").get("shadow_limited").asLong()).isEqualTo(3);
            JsonNode latest = s.get("recent_events").get(0);
            assertThat(latest.get("policy").asText()).isEqualTo("items-by-key");
            assertThat(latest.get("outcome").asText()).isEqualTo("shadow_limited");
            assertThat(latest.get("path").asText()).isEqualTo("/api/items");
            assertThat(s.get("store").get("type").asText()).isEqualTo("memory");
            assertThat(s.get("store").get("up").asBoolean()).isTrue();
            assertThat(s.get("store").get("breaker").isNull()).isTrue();

            for (String bad : new String[] {"/v1/top?window=7m", "/v1/top?limit=0", "/v1/top?limit=abc",
                    "/v1/top?limit=101", "/v1/top?window=5m&window=60m"}) {
                RawHttp.Response refused = admin(gateway.adminAddress(), bad, null);
                assertThat(refused.status()).as(bad).isEqualTo(400);
                assertThat(refused.header("Content-Type")).as(bad).startsWith("application/problem+json");
                assertThat(json(refused).get("detail").asText()).as(bad).containsPattern("parameter (window|limit) must");
            }
            assertThat(json(admin(gateway.adminAddress(), "/v1/top?window=7m", null)).get("detail").asText())
                    .isEqualTo("The parameter window must be 5m or 60m (1h), got \"7m\".");
            assertThat(RawHttp.request(gateway.adminAddress(), null, "POST", "/v1/stats", Map.of(), null).status())
                    .isEqualTo(405);
        }
    }

    @Test
    void adminToken_requiredOnTopAndStats_dashboardPageServedWithoutIt() {
        try (FlaskApp app = FlaskApp.start();
             GatewayUnderTest gateway = GatewayUnderTest.start(AbuseGateways.parse(app.uri(),
                     "  admin_token_env: SLUICE_ADMIN_TOKEN\n", POLICIES))) {
            for (String target : new String[] {"/v1/top", "/v1/stats"}) {
                assertThat(admin(gateway.adminAddress(), target, null).status()).as(target).isEqualTo(401);
                assertThat(admin(gateway.adminAddress(), target, "Bearer wrong").status()).as(target).isEqualTo(401);
                assertThat(admin(gateway.adminAddress(), target, "Bearer " + AbuseGateways.ADMIN_TOKEN).status())
                        .as(target).isEqualTo(200);
            }
            RawHttp.Response page = admin(gateway.adminAddress(), "/dashboard", null);
            assertThat(page.status()).isEqualTo(200);
            assertThat(page.header("Content-Type")).startsWith("text/html");
            assertThat(page.header("Content-Security-Policy")).contains("default-src 'none'").contains("frame-ancestors 'none'");
            assertThat(page.bodyText()).contains("data-token-required=\"true\"").doesNotContain("http://", "https://cdn");
            RawHttp.Response js = admin(gateway.adminAddress(), "/dashboard/app.js", null);
            assertThat(js.status()).isEqualTo(200);
            assertThat(js.header("Content-Type")).startsWith("text/javascript");
        }
    }

    private static JsonNode policy(JsonNode body, String name) {
        for (JsonNode p : body.get("policies")) {
            if (p.get("policy").asText().equals(name)) {
                return p;
            }
        }
        throw new AssertionError("no policy " + name + " in " + body);
    }

    private static RawHttp.Response admin(InetSocketAddress admin, String target, String authorization) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (authorization != null) {
            headers.put("Authorization", authorization);
        }
        return RawHttp.request(admin, null, "GET", target, headers, null);
    }

    private static JsonNode json(RawHttp.Response response) {
        try {
            return JSON.readTree(response.bodyText());
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + response.bodyText(), e);
        }
    }
}
