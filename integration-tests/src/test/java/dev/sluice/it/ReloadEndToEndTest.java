package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RedisServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reload and rollback of a running {@code sluice serve} (SPEC §9) in front of Flask under gunicorn:
 * under load, with bad files, by SIGHUP, and keeping bucket state and bans on memory and on Redis.
 */
class ReloadEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static FlaskApp flask;

    @TempDir Path dir;

    @BeforeAll
    static void startFlask() {
        flask = FlaskApp.start();
    }

    @AfterAll
    static void stopFlask() {
        flask.close();
    }

    private static String header(int listen, int admin) {
        return "version: 1\n"
                + "gateway:\n"
                + "  listen: 127.0.0.1:" + listen + "\n"
                + "  upstream: " + flask.uri() + "\n"
                + "  admin: 127.0.0.1:" + admin + "\n";
    }

    /** A file whose policy name and limit show in every answer's RateLimit-Policy field. */
    private static String named(int listen, int admin, String name, int perSecond) {
        return header(listen, admin)
                + "policies:\n"
                + "  - name: " + name + "\n"
                + "    match: { paths: [\"/api/**\"] }\n"
                + "    by: global\n"
                + "    limits: [\"" + perSecond + "/second\"]\n";
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body());
    }

    @Test
    void reloadUnderLoad_fiftyGoodAndTenBadReloads_noErrorAndEveryAnswerFromExactlyOneFile() throws Exception {
        int[] ports = ServeProcess.ports();
        Path file = dir.resolve("sluice.yaml");
        String a = named(ports[0], ports[1], "alpha", 100_000);
        String b = named(ports[0], ports[1], "beta", 200_000);
        Files.writeString(file, a);
        String fieldA = "\"alpha\";q=100000;w=1";
        String fieldB = "\"beta\";q=200000;w=1";
        try (ServeProcess serve = ServeProcess.start("sluice-reload-load", file, ports[0], ports[1])) {
            AtomicBoolean running = new AtomicBoolean(true);
            ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
            Map<String, AtomicLong> seen = new ConcurrentHashMap<>();
            List<Thread> clients = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Thread client = new Thread(() -> {
                    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                            .connectTimeout(Duration.ofSeconds(5)).build();
                    while (running.get()) {
                        try {
                            HttpResponse<String> r = http.send(HttpRequest.newBuilder(serve.uri("/api/items"))
                                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
                            String policy = r.headers().firstValue("RateLimit-Policy").orElse("(none)");
                            String limit = r.headers().firstValue("RateLimit").orElse("(none)");
                            boolean fromA = policy.equals(fieldA) && limit.startsWith("\"alpha\";");
                            boolean fromB = policy.equals(fieldB) && limit.startsWith("\"beta\";");
                            if (r.statusCode() != 200 || fromA == fromB) {
                                problems.add(r.statusCode() + " RateLimit-Policy: " + policy + " RateLimit: " + limit);
                            }
                            seen.computeIfAbsent(fromA ? "a" : "b", k -> new AtomicLong()).incrementAndGet();
                        } catch (Exception e) {
                            problems.add("request failed: " + e);
                        }
                    }
                }, "client-" + t);
                client.start();
                clients.add(client);
            }
            int good = 0;
            int bad = 0;
            for (int i = 0; i < 60; i++) {
                boolean broken = i % 6 == 5;
                String text = broken
                        ? named(ports[0], ports[1], "gamma", 300_000).replace("/second", "/fortnight")
                        : (good % 2 == 0 ? b : a);
                Files.writeString(file, text);
                HttpResponse<String> reload = serve.adminPost("/v1/config/reload", "");
                assertThat(reload.statusCode()).as("reload %d: %s", i, reload.body()).isEqualTo(broken ? 422 : 200);
                if (broken) {
                    bad++;
                } else {
                    good++;
                }
                Thread.sleep(20);
            }
            running.set(false);
            for (Thread client : clients) {
                client.join(60_000);
            }
            assertThat(good).isEqualTo(50);
            assertThat(bad).isEqualTo(10);
            assertThat(problems).as("answers that were errors or not from exactly one file").isEmpty();
            assertThat(seen.get("a").get()).isGreaterThan(50);
            assertThat(seen.get("b").get()).isGreaterThan(50);
            JsonNode config = json(serve.adminGet("/v1/config"));
            assertThat(config.get("version").asInt()).isEqualTo(51);
            assertThat(config.get("history")).hasSize(10);
            String metrics = serve.adminGet("/metrics").body();
            assertThat(metrics).contains("sluice_config_reloads_total{result=\"success\"} 50.0")
                    .contains("sluice_config_reloads_total{result=\"error\"} 10.0")
                    .contains("sluice_config_info{sha256=\"" + config.get("sha256").asText() + "\",version=\"51\"} 1\n")
                    .contains("sluice_config_last_reload_success_timestamp_seconds");
        }
    }

    @Test
    void reload_badFiles_keepTheRunningPoliciesAndReportExactPositions() throws Exception {
        int[] ports = ServeProcess.ports();
        Path file = dir.resolve("sluice.yaml");
        String good = named(ports[0], ports[1], "alpha", 100_000);
        Files.writeString(file, good);
        String h = header(ports[0], ports[1]);
        String policy = "policies:\n"
                + "  - name: alpha\n"
                + "    match: { paths: [\"/api/**\"] }\n"
                + "    by: global\n"
                + "    limits: [\"100000/second\"]\n";
        // Each: a bad file and the position its first error must name (lines 1-5 are the header).
        List<String[]> cases = List.of(
                new String[] {h + policy.replace("    by: global", "    bye: global"), ":9:5: "},
                new String[] {h + policy.replace("100000/second", "100000/fortnight"), ":10:22: "},
                new String[] {h + policy.replace("[\"/api/**\"]", "[]"), ":8:21: "},
                new String[] {h + policy + "  - name: alpha\n    match: { paths: [\"/b\"] }\n    limits: [\"1/second\"]\n",
                        ":11:11: "},
                new String[] {h + policy + "    cost: 200000\n", ":11:11: "},
                new String[] {h + policy + "    rollout: 150%\n", ":11:14: "},
                new String[] {h + policy + "    mode: shadowy\n", ":11:11: "},
                new String[] {h + policy.replace("global", "ipp"), ":9:9: "},
                new String[] {h + policy.replace("100000/second", "${SLUICE_TEST_UNSET_LIMIT}"), ":10:15: "},
                new String[] {h + "exempt: { ips: [10.0.0.0/33] }\n" + policy, ":6:17: "},
                new String[] {h + "  upstream_timeout: soon\n" + policy, ":6:21: "},
                new String[] {h + policy.replace("    match: { paths: [\"/api/**\"] }", "    match: { paths: [\"/api/**\" }"),
                        ":8:32: "},
                new String[] {named(ports[0] + 1, ports[1], "alpha", 100_000), ": gateway.listen changed"});
        try (ServeProcess serve = ServeProcess.start("sluice-reload-bad", file, ports[0], ports[1])) {
            for (String[] c : cases) {
                Files.writeString(file, c[0]);
                HttpResponse<String> reload = serve.adminPost("/v1/config/reload", "");
                assertThat(reload.statusCode()).as(c[0]).isEqualTo(422);
                assertThat(reload.headers().firstValue("Content-Type")).hasValue("application/problem+json");
                JsonNode errors = json(reload).get("errors");
                assertThat(errors.get(0).asText()).as(c[0]).startsWith(file + c[1]);
                HttpResponse<String> after = serve.get("/api/items");
                assertThat(after.statusCode()).isEqualTo(200);
                assertThat(after.headers().firstValue("RateLimit-Policy")).as("old policies stay")
                        .hasValue("\"alpha\";q=100000;w=1");
            }
            assertThat(json(serve.adminGet("/v1/config")).get("version").asInt()).isEqualTo(1);
            assertThat(serve.log()).contains("policy reload of " + file + " refused; version 1 stays in force");
            assertThat(serve.adminGet("/metrics").body())
                    .contains("sluice_config_reloads_total{result=\"error\"} " + cases.size() + ".0");
        }
    }

    @Test
    void sighup_reloadsTheFile() throws Exception {
        int[] ports = ServeProcess.ports();
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, named(ports[0], ports[1], "alpha", 100_000));
        try (ServeProcess serve = ServeProcess.start("sluice-sighup", file, ports[0], ports[1])) {
            Files.writeString(file, named(ports[0], ports[1], "beta", 200_000));
            serve.process.signal("HUP");
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (json(serve.adminGet("/v1/config")).get("version").asInt() != 2) {
                assertThat(System.nanoTime() - deadline).as(serve.log()).isNegative();
                Thread.sleep(50);
            }
            assertThat(serve.get("/api/items").headers().firstValue("RateLimit-Policy"))
                    .hasValue("\"beta\";q=200000;w=1");
        }
    }

    private String stateFile(int listen, int admin, String store, String itemsLimit, boolean extra) {
        return header(listen, admin)
                + "clients: { api_key: { header: X-API-Key } }\n"
                + store
                + "policies:\n"
                + "  - name: items\n"
                + "    match: { paths: [\"/api/items\"] }\n"
                + "    by: api_key\n"
                + "    limits: [\"" + itemsLimit + "\"]\n"
                + (extra ? "  - name: search\n    match: { paths: [\"/api/search\"] }\n    limits: [\"50/minute\"]\n" : "");
    }

    @Test
    void reloadAndRollback_memoryStore_keepUsedUpBucketsAndBans() throws Exception {
        stateKeptAcrossReloadAndRollback("store: { type: memory }\n");
    }

    @Test
    void reloadAndRollback_redisStore_keepUsedUpBucketsAndBans() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            stateKeptAcrossReloadAndRollback("store: { type: redis, url: \"" + redis.uri() + "\", timeout: 2s, on_error: deny }\n");
        }
    }

    private void stateKeptAcrossReloadAndRollback(String store) throws Exception {
        int[] ports = ServeProcess.ports();
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, stateFile(ports[0], ports[1], store, "3/minute", false));
        try (ServeProcess serve = ServeProcess.start("sluice-reload-state", file, ports[0], ports[1])) {
            for (int i = 0; i < 3; i++) {
                assertThat(serve.get("/api/items", "X-API-Key", "demo-key-alice").statusCode()).isEqualTo(200);
            }
            assertThat(serve.get("/api/items", "X-API-Key", "demo-key-alice").statusCode()).isEqualTo(429);
            HttpResponse<String> ban = serve.adminPost("/v1/bans",
                    "{\"identity\": {\"kind\": \"api_key\", \"value\": \"demo-key-bob\"}, \"duration\": \"10m\"}");
            assertThat(ban.statusCode()).as(ban.body()).isEqualTo(201);
            assertBlocked(serve);

            Files.writeString(file, stateFile(ports[0], ports[1], store, "3/minute", true));
            assertThat(serve.adminPost("/v1/config/reload", "").statusCode()).isEqualTo(200);
            assertThat(serve.get("/api/items", "X-API-Key", "demo-key-alice").statusCode())
                    .as("no fresh burst after a reload").isEqualTo(429);
            assertBlocked(serve);
            assertThat(serve.get("/api/search?q=a").statusCode()).as("the new policy applies").isEqualTo(200);

            HttpResponse<String> rollback = serve.adminPost("/v1/config/rollback", "");
            assertThat(rollback.statusCode()).as(rollback.body()).isEqualTo(200);
            assertThat(json(rollback).get("version").asInt()).isEqualTo(1);
            assertThat(serve.get("/api/items", "X-API-Key", "demo-key-alice").statusCode())
                    .as("no fresh burst after a rollback").isEqualTo(429);
            assertBlocked(serve);
            HttpResponse<String> named = serve.adminPost("/v1/config/rollback", "{\"version\": 2}");
            assertThat(json(named).get("version").asInt()).isEqualTo(2);
            assertThat(serve.adminPost("/v1/config/rollback", "{\"version\": 7}").statusCode()).isEqualTo(404);
            assertThat(serve.adminPost("/v1/config/rollback", "{\"version\": \"x\"}").statusCode()).isEqualTo(400);

            // A changed limit carries the tokens used: 3 of the new 5 are spent (memory and Redis).
            Files.writeString(file, stateFile(ports[0], ports[1], store, "5/minute", true));
            assertThat(serve.adminPost("/v1/config/reload", "").statusCode()).isEqualTo(200);
            int admitted = 0;
            while (serve.get("/api/items", "X-API-Key", "demo-key-alice").statusCode() == 200) {
                admitted++;
                assertThat(admitted).as("never a fresh burst").isLessThanOrEqualTo(5);
            }
            assertThat(admitted).as("5 of the new limit minus the 3 used").isEqualTo(2);
        }
    }

    private static void assertBlocked(ServeProcess serve) throws Exception {
        HttpResponse<String> blocked = serve.get("/api/items", "X-API-Key", "demo-key-bob");
        assertThat(blocked.statusCode()).isEqualTo(429);
        assertThat(blocked.body()).contains("abnormal-usage-detected");
    }
}
