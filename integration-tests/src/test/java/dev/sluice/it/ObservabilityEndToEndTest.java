package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RepoRoot;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 against a real {@code sluice serve} in front of Flask under gunicorn, with traffic that
 * includes a 429, a ban, an upstream 4xx and reloads (one good, one bad): every metric name the
 * shipped Grafana dashboard and Prometheus alert rules reference is one this gateway really
 * exports on {@code /metrics} (histogram {@code _bucket/_sum/_count} mapped to their base), and
 * the access log gets one line per request and is reopened on {@code SIGUSR1} after a rename.
 */
class ObservabilityEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern METRIC = Pattern.compile("\\bsluice_[a-z0-9_]+");

    @TempDir Path dir;

    private static void await(String what, BooleanSupplier condition) {
        Awaitility.await(what).atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
                .until(condition::getAsBoolean);
    }

    private static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
        } catch (java.io.IOException e) {
            return List.of();
        }
    }

    private static String policy(FlaskApp app, int listen, int admin, String itemsLimit) {
        return """
                version: 1
                gateway:
                  listen: 127.0.0.1:%d
                  upstream: %s
                  admin: 127.0.0.1:%d
                access_log: access.jsonl
                audit_log: audit.jsonl   # both logs on: their drop counters exist only then
                policies:
                  - name: login
                    match: { methods: [POST], paths: ["/auth/login"] }
                    by: ip
                    limits: ["1/hour"]
                    penalty: { ban: 10m }
                  - name: items
                    match: { paths: ["/api/items"] }
                    by: ip
                    limits: ["%s"]
                """.formatted(listen, app.uri(), admin, itemsLimit);
    }

    /** The metric names on {@code /metrics} (sample lines, labels and value cut off). */
    private static Set<String> exported(String text) {
        Set<String> names = new TreeSet<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int end = line.indexOf('{');
            if (end < 0) {
                end = line.indexOf(' ');
            }
            names.add(line.substring(0, end));
        }
        return names;
    }

    /** Names referenced by a deploy file that /metrics lacks (a histogram suffix maps to its base). */
    private static List<String> unknown(String file, Set<String> exported) {
        List<String> missing = new ArrayList<>();
        Matcher m = METRIC.matcher(file);
        while (m.find()) {
            String name = m.group();
            String base = name.replaceFirst("_(bucket|sum|count)$", "");
            boolean known = exported.contains(name) || exported.contains(base + "_bucket") && exported.contains(base + "_count");
            if (!known && !missing.contains(name)) {
                missing.add(name);
            }
        }
        return missing;
    }

    @Test
    void liveGateway_exportsEveryMetricTheDashboardAndAlertsUse_andTheAccessLogRotatesOnSigusr1() throws Exception {
        int[] ports = ServeProcess.ports();
        Path file = dir.resolve("sluice.yaml");
        Path access = dir.resolve("access.jsonl");
        Path rotated = dir.resolve("access.jsonl.1");
        try (FlaskApp app = FlaskApp.start()) {
            Files.writeString(file, policy(app, ports[0], ports[1], "2/minute"));
            try (ServeProcess serve = ServeProcess.start("sluice-observability", file, ports[0], ports[1])) {
                assertThat(serve.get("/api/items").statusCode()).isEqualTo(200);
                assertThat(serve.get("/api/items").statusCode()).isEqualTo(200);
                assertThat(serve.get("/api/items").statusCode()).isEqualTo(429);
                assertThat(serve.get("/nope").statusCode()).isEqualTo(404);
                java.net.http.HttpRequest login = java.net.http.HttpRequest.newBuilder(serve.uri("/auth/login"))
                        .header("Content-Type", "application/json")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"username\":\"a\",\"password\":\"b\"}"))
                        .build();
                ServeProcess.HTTP.send(login, java.net.http.HttpResponse.BodyHandlers.discarding());
                int banned = ServeProcess.HTTP.send(login, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
                assertThat(banned).isEqualTo(429);

                // A good reload, then a bad one (the running policies stay).
                Files.writeString(file, policy(app, ports[0], ports[1], "3/minute"));
                assertThat(serve.adminPost("/v1/config/reload", "{}").statusCode()).isEqualTo(200);
                Files.writeString(file, policy(app, ports[0], ports[1], "lots/minute"));
                assertThat(serve.adminPost("/v1/config/reload", "{}").statusCode()).isEqualTo(422);

                await("one access line per request", () -> lines(access).size() == 6);
                Files.move(access, rotated);
                serve.process.signal("USR1");
                await("the reopen is logged", () -> serve.log().contains("access log reopened"));
                assertThat(serve.get("/api/items").statusCode()).isEqualTo(200);
                await("the next line goes to a new file", () -> lines(access).size() == 1);
                assertThat(lines(rotated)).hasSize(6);
                JsonNode after = JSON.readTree(lines(access).get(0));
                assertThat(after.get("policies").toString()).isEqualTo("[\"items\"]");
                List<String> outcomes = new ArrayList<>();
                for (String line : lines(rotated)) {
                    outcomes.add(JSON.readTree(line).get("outcome").asText());
                }
                assertThat(outcomes).containsExactly("allowed", "allowed", "limited", "allowed", "allowed", "banned");

                String metrics = serve.adminGet("/metrics").body();
                Set<String> exported = exported(metrics);
                assertThat(exported).contains("sluice_requests_total", "sluice_bans_total", "sluice_store_circuit_open",
                        "sluice_access_log_dropped_total", "sluice_config_reloads_total");

                Path root = RepoRoot.find();
                String grafana = Files.readString(root.resolve("deploy/grafana/sluice.json"));
                String alerts = Files.readString(root.resolve("deploy/prometheus/sluice-alerts.yaml"));
                JSON.readTree(grafana); // valid JSON
                assertThat(METRIC.matcher(grafana).find()).isTrue();
                assertThat(unknown(grafana, exported)).as("Grafana metric names not on a live /metrics").isEmpty();
                assertThat(unknown(alerts, exported)).as("alert rule metric names not on a live /metrics").isEmpty();
            }
        }
    }
}
