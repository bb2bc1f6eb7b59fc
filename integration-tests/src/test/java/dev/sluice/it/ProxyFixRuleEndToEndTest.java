package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.Nginx;
import dev.sluice.testkit.RawHttp;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The ProxyFix rule the docs state once (docs/identity.md, "What the upstream sees"): the
 * {@code X-Forwarded-For} Sluice sends starts with the client it decided, followed by each trusted
 * proxy in front of it and then its own TCP peer, so a Flask app uses {@code x_for} = 1 + the
 * number of trusted proxies in front of Sluice: 1 with clients talking to Sluice directly, 2 with
 * nginx in front. Also the caveat of trusting a same-host proxy: a local process that connects
 * from the trusted address may claim any client.
 */
class ProxyFixRuleEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TRUST_NGINX = """
            clients:
              trusted_proxies: [127.0.0.1/32]
            """;

    @Test
    void nginxInFront_xFor2_flaskSeesTheClient_xFor1_flaskSeesNginx() throws Exception {
        InetAddress alice = InetAddress.getByName("127.0.0.2");
        try (FlaskApp two = FlaskApp.start(Map.of("PROXY_FIX_X_FOR", "2"));
             FlaskApp one = FlaskApp.start(Map.of("PROXY_FIX_X_FOR", "1"));
             GatewayUnderTest toTwo = GatewayUnderTest.start(two.uri(), "", TRUST_NGINX);
             GatewayUnderTest toOne = GatewayUnderTest.start(one.uri(), "", TRUST_NGINX);
             Nginx nginxTwo = Nginx.reverseProxy(toTwo.address());
             Nginx nginxOne = Nginx.reverseProxy(toOne.address())) {

            JsonNode seen = echo(nginxTwo.address(), alice, "6.6.6.6");
            assertThat(seen.path("x_forwarded_for").asText()).isEqualTo("127.0.0.2, 127.0.0.1");
            assertThat(seen.path("remote_addr").asText()).isEqualTo("127.0.0.2");

            assertThat(echo(nginxOne.address(), alice, null).path("remote_addr").asText())
                    .as("x_for=1 behind nginx gives nginx's address").isEqualTo("127.0.0.1");
        }
    }

    @Test
    void clientsDirect_xFor1_flaskSeesTheClient_andAForgedHeaderIsDropped() throws Exception {
        InetAddress alice = InetAddress.getByName("127.0.0.2");
        try (FlaskApp app = FlaskApp.start(Map.of("PROXY_FIX_X_FOR", "1"));
             GatewayUnderTest gateway = GatewayUnderTest.start(app.uri(), "", "")) {
            JsonNode seen = echo(gateway.address(), alice, "6.6.6.6");

            assertThat(seen.path("x_forwarded_for").asText()).isEqualTo("127.0.0.2");
            assertThat(seen.path("remote_addr").asText()).isEqualTo("127.0.0.2");
        }
    }

    @Test
    void sameHostProcess_fromTheTrustedAddress_canClaimAnyClient() throws Exception {
        try (FlaskApp app = FlaskApp.start(Map.of("PROXY_FIX_X_FOR", "2"));
             GatewayUnderTest gateway = GatewayUnderTest.start(app.uri(), "", TRUST_NGINX)) {
            // Not through nginx: straight to Sluice from 127.0.0.1, the address nginx uses.
            JsonNode seen = echo(gateway.address(), InetAddress.getByName("127.0.0.1"), "6.6.6.6");

            assertThat(seen.path("remote_addr").asText()).isEqualTo("6.6.6.6");
        }
    }

    private static JsonNode echo(InetSocketAddress to, InetAddress from, String forwardedFor) throws Exception {
        Map<String, String> headers = forwardedFor == null ? Map.of() : Map.of("X-Forwarded-For", forwardedFor);
        RawHttp.Response response = RawHttp.request(to, from, "POST", "/api/echo", headers, "ping".getBytes());
        assertThat(response.status()).as(response.bodyText()).isEqualTo(200);
        return JSON.readTree(response.body());
    }
}
