package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.Nginx;
import dev.sluice.testkit.RawHttp;
import java.net.InetAddress;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * nginx in front of Sluice, as in {@code examples/flask-api/nginx.conf}. Everything runs on
 * loopback, so the clients bind 127.0.0.2 and 127.0.0.3 while nginx connects from 127.0.0.1, the
 * only address Sluice trusts.
 */
class TrustedProxyEndToEndTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void twoClientsBehindTrustedNginx_getSeparateBucketsAndSpoofingDoesNotHelp() throws Exception {
        String rest = """
                clients:
                  trusted_proxies: [127.0.0.1/32]
                  ip_header: x-forwarded-for
                policies:
                  - name: echo
                    match: { methods: [POST], paths: ["/api/echo"] }
                    by: ip
                    limits: ["2/minute"]
                """;
        InetAddress alice = InetAddress.getByName("127.0.0.2");
        InetAddress bob = InetAddress.getByName("127.0.0.3");
        try (FlaskApp app = FlaskApp.start();
             GatewayUnderTest gateway = GatewayUnderTest.start(app.uri(), "", rest);
             Nginx nginx = Nginx.reverseProxy(gateway.address())) {

            RawHttp.Response alice1 = echo(nginx, alice, null);
            RawHttp.Response alice2 = echo(nginx, alice, null);
            // nginx appends the real peer, so a forged entry on the left changes nothing.
            RawHttp.Response alice3 = echo(nginx, alice, "127.0.0.9");
            RawHttp.Response bob1 = echo(nginx, bob, null);

            assertThat(alice1.status()).isEqualTo(200);
            assertThat(alice2.status()).isEqualTo(200);
            assertThat(alice3.status()).as("alice's bucket is empty").isEqualTo(429);
            assertThat(Long.parseLong(alice3.header("Retry-After"))).isPositive();
            assertThat(bob1.status()).as("bob has his own bucket behind the same nginx").isEqualTo(200);

            // The client chain reaches Flask: the client first, then nginx (the peer Sluice saw).
            JsonNode seenByFlask = JSON.readTree(bob1.body());
            assertThat(seenByFlask.path("x_forwarded_for").asText()).startsWith("127.0.0.3").endsWith("127.0.0.1");
            assertThat(app.stats().hits("/api/echo")).isEqualTo(3);
        }
    }

    private static RawHttp.Response echo(Nginx nginx, InetAddress from, String spoofed) {
        Map<String, String> headers = spoofed == null ? Map.of() : Map.of("X-Forwarded-For", spoofed);
        return RawHttp.request(nginx.address(), from, "POST", "/api/echo", headers, "ping".getBytes());
    }
}
