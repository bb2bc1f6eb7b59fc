package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.FreePort;
import dev.sluice.testkit.RawHttp;
import java.net.Socket;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Sluice's own answers when the upstream is gone or too slow: problem+json 502 and 504. */
class UpstreamFailureEndToEndTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void upstreamDown_request_answers502Problem() throws Exception {
        try (Socket held = FreePort.refusing();
                GatewayUnderTest gateway = GatewayUnderTest.start(
                        URI.create("http://127.0.0.1:" + held.getLocalPort()), "", "")) {
            RawHttp.Response response = RawHttp.get(gateway.address(), null, "/api/items", Map.of());

            assertThat(response.status()).isEqualTo(502);
            assertThat(response.header("Content-Type")).startsWith("application/problem+json");
            assertThat(JSON.readTree(response.body()).path("status").asInt()).isEqualTo(502);
        }
    }

    @Test
    void upstreamCrashes_afterServing_nextRequestAnswers502() {
        FlaskApp app = FlaskApp.start();
        try (GatewayUnderTest gateway = GatewayUnderTest.start(app.uri(), "", "")) {
            assertThat(RawHttp.get(gateway.address(), null, "/healthz", Map.of()).status()).isEqualTo(200);

            app.kill();

            assertThat(RawHttp.get(gateway.address(), null, "/healthz", Map.of()).status()).isEqualTo(502);
        } finally {
            app.stop();
        }
    }

    @Test
    void slowUpstream_beyondUpstreamTimeout_answers504ProblemInTime() throws Exception {
        try (FlaskApp app = FlaskApp.start();
             GatewayUnderTest gateway = GatewayUnderTest.start(app.uri(), "  upstream_timeout: 1s\n", "")) {
            long start = System.nanoTime();
            RawHttp.Response response = RawHttp.get(gateway.address(), null, "/api/reports/1?delay=5",
                    Map.of("X-API-Key", "demo-key-alice"));
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;

            assertThat(response.status()).isEqualTo(504);
            assertThat(response.header("Content-Type")).startsWith("application/problem+json");
            JsonNode problem = JSON.readTree(response.body());
            assertThat(problem.path("status").asInt()).isEqualTo(504);
            assertThat(elapsedMillis).as("answered after the 1 s timeout, not after the 5 s report")
                    .isBetween(900L, 4900L);
        }
    }
}
