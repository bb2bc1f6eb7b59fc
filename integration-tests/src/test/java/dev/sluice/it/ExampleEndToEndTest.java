package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.GatewaySettings;
import dev.sluice.config.SluiceConfig;
import dev.sluice.policy.Policy;
import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RawHttp;
import dev.sluice.testkit.RepoRoot;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The shipped example, {@code examples/flask-api/sluice.yaml}, in front of the shipped
 * {@code app.py}: only the listen/admin ports and the upstream address are swapped for free ones,
 * and the audit log is switched off so the test writes no file into the repository.
 */
class ExampleEndToEndTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void exampleConfig_loads_withThePoliciesTheReadmeDescribes() throws Exception {
        SluiceConfig config = ConfigLoader.load(RepoRoot.find().resolve("examples/flask-api/sluice.yaml"));

        assertThat(config.policies().policies()).extracting(Policy::name)
                .containsExactly("login", "search", "reports", "reports-ip");
        assertThat(config.gateway().upstream().toString()).isEqualTo("http://127.0.0.1:5000");
    }

    @Test
    void exampleConfig_loginGuessing_sixthAttemptPerMinuteIsLimited() throws Exception {
        InetAddress attacker = InetAddress.getByName("127.0.0.2");
        InetAddress someoneElse = InetAddress.getByName("127.0.0.3");
        try (FlaskApp app = FlaskApp.start(); GatewayUnderTest gateway = GatewayUnderTest.start(example(app))) {
            for (int i = 0; i < 5; i++) {
                assertThat(login(gateway, attacker, "guess" + i).status()).as("attempt %d", i + 1).isEqualTo(401);
            }

            RawHttp.Response limited = login(gateway, attacker, "wonderland");
            RawHttp.Response other = login(gateway, someoneElse, "wonderland");

            assertThat(limited.status()).isEqualTo(429);
            assertThat(JSON.readTree(limited.body()).path("violated-policies").toString()).isEqualTo("[\"login/1\"]");
            assertThat(limited.bodyText()).doesNotContain("wonderland");
            assertThat(other.status()).isEqualTo(200);
            assertThat(other.bodyText()).contains("\"token\":");
            assertThat(app.stats().hits("/auth/login")).isEqualTo(6);
        }
    }

    @Test
    void exampleConfig_reportsCostFive_thirteenthReportPerMinuteIsLimitedButBatchKeyIsExempt() throws Exception {
        try (FlaskApp app = FlaskApp.start(); GatewayUnderTest gateway = GatewayUnderTest.start(example(app))) {
            // 60 tokens a minute at 5 tokens a report: 12 reports.
            for (int i = 0; i < 12; i++) {
                assertThat(report(gateway, "demo-key-alice").status()).as("report %d", i + 1).isEqualTo(200);
            }
            assertThat(report(gateway, "demo-key-alice").status()).isEqualTo(429);
            assertThat(report(gateway, "demo-key-bob").status()).as("another key, another bucket").isEqualTo(200);
            for (int i = 0; i < 14; i++) {
                assertThat(report(gateway, "internal-batch-key").status()).as("exempt %d", i + 1).isEqualTo(200);
            }
            assertThat(app.stats().hits("/api/reports/7")).isEqualTo(12 + 1 + 14);
        }
    }

    private static SluiceConfig example(FlaskApp app) throws Exception {
        SluiceConfig file = ConfigLoader.load(RepoRoot.find().resolve("examples/flask-api/sluice.yaml"));
        InetSocketAddress anyPort = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        GatewaySettings gateway = new GatewaySettings(anyPort, app.uri(), anyPort, file.gateway().upstreamTimeout());
        return new SluiceConfig(file.source(), gateway, file.store(), file.headers(), Optional.empty(),
                file.policies(), file.warnings());
    }

    private static RawHttp.Response login(GatewayUnderTest gateway, InetAddress from, String password) {
        return RawHttp.request(gateway.address(), from, "POST", "/auth/login", Map.of("Content-Type", "application/json"),
                ("{\"username\":\"alice\",\"password\":\"" + password + "\"}").getBytes());
    }

    private static RawHttp.Response report(GatewayUnderTest gateway, String apiKey) {
        return RawHttp.get(gateway.address(), null, "/api/reports/7?delay=0", Map.of("X-API-Key", apiKey));
    }
}
