package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RawHttp;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Limiting as a client and the upstream see it: real gateway, real gunicorn, real sockets. */
class RateLimitEndToEndTest {

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
    void limitedRoute_overLimit_answers429WithHeadersAndProblemAndNeverReachesUpstream() throws Exception {
        String policies = """
                policies:
                  - name: search
                    match: { paths: ["/api/search"] }
                    by: ip
                    limits: ["2/minute"]
                """;
        try (GatewayUnderTest gateway = GatewayUnderTest.start(app.uri(), "", policies)) {
            List<RawHttp.Response> responses = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                responses.add(RawHttp.get(gateway.address(), null, "/api/search?q=an", Map.of()));
            }

            // Allowed: the upstream's answer plus the fields of the (only) limit.
            for (int i = 0; i < 2; i++) {
                RawHttp.Response ok = responses.get(i);
                assertThat(ok.status()).as("request %d", i + 1).isEqualTo(200);
                assertThat(ok.bodyText()).contains("\"count\":2");
                assertThat(ok.header("RateLimit-Policy")).isEqualTo("\"search\";q=2;w=60");
                RateLimitFields.Item limit = RateLimitFields.parse(ok.header("RateLimit")).get(0);
                assertThat(limit.name()).isEqualTo("search");
                assertThat(limit.param("r")).isEqualTo(Integer.toString(1 - i));
            }

            // Over the limit: 429 from Sluice itself.
            for (int i = 2; i < 4; i++) {
                RawHttp.Response limited = responses.get(i);
                assertThat(limited.status()).as("request %d", i + 1).isEqualTo(429);
                long retryAfter = Long.parseLong(limited.header("Retry-After"));
                // 2/minute: the next token comes 30 s after the burst was spent (less the
                // seconds this test took, generous for a loaded CI machine).
                assertThat(retryAfter).isBetween(20L, 30L);
                assertThat(limited.header("RateLimit-Policy")).isEqualTo("\"search\";q=2;w=60");
                RateLimitFields.Item item = RateLimitFields.parse(limited.header("RateLimit")).get(0);
                assertThat(item.name()).isEqualTo("search");
                assertThat(item.param("r")).isEqualTo("0");
                assertThat(item.param("t")).isEqualTo(Long.toString(retryAfter));
                assertThat(limited.header("Content-Type")).startsWith("application/problem+json");

                JsonNode problem = JSON.readTree(limited.body());
                assertThat(problem.path("type").asText())
                        .isEqualTo("https://iana.org/assignments/http-problem-types#quota-exceeded");
                assertThat(problem.path("status").asInt()).isEqualTo(429);
                assertThat(problem.path("title").asText()).isNotBlank();
                assertThat(problem.path("detail").asText()).contains("search").contains("2/minute");
                assertThat(problem.path("violated-policies").toString()).isEqualTo("[\"search\"]");
                assertThat(problem.path("policy").asText()).isEqualTo("search");
                assertThat(problem.path("limit").asText()).isEqualTo("2/minute");
                assertThat(problem.path("retry_after").asLong()).isEqualTo(retryAfter);
            }

            // The two rejected requests never reached gunicorn.
            assertThat(app.stats().hits("/api/search")).isEqualTo(2);

            Metrics metrics = gateway.metrics();
            assertThat(metrics.requests("search", "allowed")).as(metrics.toString()).isEqualTo(2);
            assertThat(metrics.requests("search", "limited")).as(metrics.toString()).isEqualTo(2);
        }
    }

    @Test
    void policyWithTwoLimits_overBurst_namesDenyingLimitInFieldsAndBody() throws Exception {
        String policies = """
                policies:
                  - name: login
                    match: { methods: [POST], paths: ["/auth/login"] }
                    by: ip
                    limits: ["3/minute", "20/hour"]
                """;
        try (GatewayUnderTest gateway = GatewayUnderTest.start(app.uri(), "", policies)) {
            byte[] wrongPassword = "username=alice&password=guess".getBytes();
            Map<String, String> form = Map.of("Content-Type", "application/x-www-form-urlencoded");
            for (int i = 0; i < 3; i++) {
                RawHttp.Response attempt = RawHttp.request(gateway.address(), null, "POST", "/auth/login", form,
                        wrongPassword);
                assertThat(attempt.status()).as("attempt %d", i + 1).isEqualTo(401);
            }

            RawHttp.Response limited = RawHttp.request(gateway.address(), null, "POST", "/auth/login", form,
                    wrongPassword);

            assertThat(limited.status()).isEqualTo(429);
            assertThat(limited.header("RateLimit-Policy")).isEqualTo("\"login/1\";q=3;w=60, \"login/2\";q=20;w=3600");
            RateLimitFields.Item denying = RateLimitFields.parse(limited.header("RateLimit")).get(0);
            assertThat(denying.name()).isEqualTo("login/1");
            assertThat(denying.param("t")).isEqualTo(limited.header("Retry-After"));
            JsonNode problem = JSON.readTree(limited.body());
            assertThat(problem.path("violated-policies").toString()).isEqualTo("[\"login/1\"]");
            assertThat(problem.path("limit").asText()).isEqualTo("3/minute");
            assertThat(limited.bodyText()).doesNotContain("guess");
            assertThat(app.stats().hits("/auth/login")).isEqualTo(3);
        }
    }

    @Test
    void spoofedForwardedFor_fromUntrustedPeer_doesNotChangeIdentityAndFlaskSeesRealPeer() throws Exception {
        String policies = """
                policies:
                  - name: echo
                    match: { methods: [POST], paths: ["/api/echo"] }
                    by: ip
                    limits: ["2/minute"]
                """;
        InetAddress client = InetAddress.getByName("127.0.0.2");
        InetAddress otherClient = InetAddress.getByName("127.0.0.3");
        try (GatewayUnderTest gateway = GatewayUnderTest.start(app.uri(), "", policies)) {
            RawHttp.Response first = echo(gateway, client, "198.51.100.1");
            RawHttp.Response second = echo(gateway, client, "198.51.100.2");
            RawHttp.Response third = echo(gateway, client, "198.51.100.3");
            RawHttp.Response other = echo(gateway, otherClient, "198.51.100.1");

            assertThat(first.status()).isEqualTo(200);
            assertThat(second.status()).isEqualTo(200);
            assertThat(third.status()).as("a new spoofed address must not buy a new bucket").isEqualTo(429);
            assertThat(other.status()).as("a really different peer has its own bucket").isEqualTo(200);

            // Sluice dropped the untrusted chain and sent only the peer; ProxyFix(x_for=1) uses it.
            JsonNode seen = JSON.readTree(first.body());
            assertThat(seen.path("x_forwarded_for").asText()).isEqualTo("127.0.0.2");
            assertThat(seen.path("remote_addr").asText()).isEqualTo("127.0.0.2");
            assertThat(first.bodyText()).doesNotContain("198.51.100");
            assertThat(JSON.readTree(other.body()).path("remote_addr").asText()).isEqualTo("127.0.0.3");
        }
    }

    @Test
    void shadowPolicy_overLimit_neverBlocksButCountsShadowLimited() throws Exception {
        String policies = """
                policies:
                  - name: items-trial
                    match: { paths: ["/api/items"] }
                    by: ip
                    limits: ["1/minute"]
                    mode: shadow
                """;
        try (GatewayUnderTest gateway = GatewayUnderTest.start(app.uri(), "", policies)) {
            for (int i = 0; i < 3; i++) {
                RawHttp.Response response = RawHttp.get(gateway.address(), null, "/api/items", Map.of());
                assertThat(response.status()).as("request %d: %s", i + 1, response.bodyText()).isEqualTo(200);
                assertThat(response.header("RateLimit")).as("shadow policies add no fields").isNull();
                assertThat(response.header("Retry-After")).isNull();
            }

            assertThat(app.stats().hits("/api/items")).isEqualTo(3);
            Metrics metrics = gateway.metrics();
            assertThat(metrics.requests("items-trial", "shadow_limited")).as(metrics.toString()).isEqualTo(2);
            assertThat(metrics.requests("items-trial", "limited")).as(metrics.toString()).isZero();
        }
    }

    private static RawHttp.Response echo(GatewayUnderTest gateway, InetAddress from, String spoofed) {
        return RawHttp.request(gateway.address(), from, "POST", "/api/echo", Map.of("X-Forwarded-For", spoofed),
                "ping".getBytes());
    }
}
