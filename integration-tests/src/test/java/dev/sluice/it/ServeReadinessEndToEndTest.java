package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.ManagedProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readiness of a real {@code sluice serve} process in front of Flask under gunicorn, watched from
 * the moment it is started: {@code /readyz} answers nothing (the admin listener is bound last)
 * until the gateway can decide and forward, and the instant it first answers 2xx the gateway
 * decides and forwards real requests, counted in its metrics and logs.
 */
class ServeReadinessEndToEndTest {
    @TempDir Path dir;

    @Test
    void readyzAnswers2xxOnlyOnceTheGatewayDecidesAndForwards() throws Exception {
        try (FlaskApp flask = FlaskApp.start()) {
            long hitsBefore = flask.stats().total(); // the fixture's own readiness probes
            int[] ports = ServeProcess.ports();
            Path file = dir.resolve("sluice.yaml");
            Files.writeString(file, """
                    version: 1
                    gateway:
                      listen: 127.0.0.1:%d
                      upstream: %s
                      admin: 127.0.0.1:%d
                    audit_log: audit.jsonl
                    access_log: access.jsonl
                    policies:
                      - name: api
                        match: { paths: ["/api/**"] }
                        by: ip
                        limits: ["2/minute"]
                    """.formatted(ports[0], flask.uri(), ports[1]));
            List<String> command = ServeProcess.command(file);
            URI readyz = URI.create("http://127.0.0.1:" + ports[1] + "/readyz");
            try (ManagedProcess serve = ManagedProcess.builder("sluice-readiness", command).directory(dir).start()) {
                int notReady = 0;
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (status(readyz) / 100 != 2) {
                    assertThat(serve.isAlive()).as("serve is running").isTrue();
                    assertThat(System.nanoTime()).as("/readyz answers 2xx within 60 s").isLessThan(deadline);
                    notReady++;
                    Thread.sleep(5);
                }
                // The instant /readyz first says ready, the gateway decides and forwards.
                HttpResponse<String> first = get(ports[0], "/api/items");
                HttpResponse<String> second = get(ports[0], "/api/items");
                HttpResponse<String> third = get(ports[0], "/api/items");

                assertThat(notReady).as("polls before ready").isPositive();
                assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
                assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
                assertThat(third.statusCode()).isEqualTo(429);
                assertThat(flask.stats().hits("/api/items")).as("upstream hits").isEqualTo(2);
                assertThat(flask.stats().total() - hitsBefore).as("every upstream hit").isEqualTo(2);

                Metrics metrics = new Metrics(get(ports[1], "/metrics").body());
                assertThat(metrics.requests("api", "allowed")).isEqualTo(2);
                assertThat(metrics.requests("api", "limited")).isEqualTo(1);

                serve.signal("TERM");
                assertThat(serve.awaitExit(Duration.ofSeconds(30))).hasValue(0);
            }
            List<String> access = Files.readAllLines(dir.resolve("access.jsonl"), StandardCharsets.UTF_8);
            assertThat(access).hasSize(3).allMatch(line -> line.contains("\"client_ip\":\"127.0.0.1\""));
            List<String> audit = Files.readAllLines(dir.resolve("audit.jsonl"), StandardCharsets.UTF_8);
            assertThat(audit).hasSize(1).allMatch(line -> line.contains("\"policy\":\"api\""));
        }
    }

    /** The status of GET url, or 0 when nothing answers (connection refused: not bound yet). */
    private static int status(URI url) throws InterruptedException {
        try {
            return ServeProcess.HTTP.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return 0;
        }
    }

    private static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return ServeProcess.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
