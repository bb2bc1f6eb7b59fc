package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice serve} as a process with only {@code decision.listen} set (no {@code
 * gateway.upstream}): it starts, decides, takes a reload by {@code SIGHUP}, and on {@code SIGTERM}
 * stops its listener and exits 0.
 */
class DecisionServeEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path dir;

    private static String file(int decision, int admin, String limit) {
        return "version: 1\n"
                + "gateway:\n"
                + "  admin: 127.0.0.1:" + admin + "\n"
                + "  drain_grace: 0s\n"
                + "decision:\n"
                + "  listen: 127.0.0.1:" + decision + "\n"
                + "policies:\n"
                + "  - name: login\n"
                + "    match: { methods: [POST], paths: [\"/auth/login\"] }\n"
                + "    by: ip\n"
                + "    limits: [\"" + limit + "\"]\n";
    }

    private static JsonNode decide(int port, String peer) throws Exception {
        HttpResponse<String> r = ServeProcess.HTTP.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/v1/decide")).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"method\":\"POST\",\"path\":\"/auth/login\",\"peer\":\"" + peer + "\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    @Test
    void decisionOnly_servesReloadsAndDrains() throws Exception {
        int[] ports = ServeProcess.ports();
        Path policy = dir.resolve("decision.yaml");
        Files.writeString(policy, file(ports[0], ports[1], "1/minute"));
        try (ServeProcess serve = ServeProcess.start("sluice-decision", policy, ports[0], ports[1])) {
            assertThat(decide(ports[0], "203.0.113.1").get("allowed").asBoolean()).isTrue();
            assertThat(decide(ports[0], "203.0.113.1").get("status").asInt()).isEqualTo(429);
            assertThat(serve.log()).contains("decision API on 127.0.0.1:" + ports[0]);

            Files.writeString(policy, file(ports[0], ports[1], "3/minute"));
            serve.process.signal("HUP");
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(decide(ports[0], "203.0.113.2").get("headers").get("RateLimit-Policy").asText())
                            .isEqualTo("\"login\";q=3;w=60"));

            serve.process.signal("TERM");
            OptionalInt exit = serve.process.awaitExit(Duration.ofSeconds(30));
            assertThat(exit).as(serve.log()).hasValue(0);
        }
    }
}
