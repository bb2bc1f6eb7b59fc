package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.sluice.testkit.FreePort;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Staged enforcement (SPEC §9) and defaults under shadow (SPEC §2) on real {@code sluice serve}
 * processes: two instances started from one file with {@code ${VAR}} addresses enforce the same
 * identities, and so does an instance after a restart.
 */
class RolloutEndToEndTest {
    private static final int USERS = 1_000;

    @TempDir Path dir;
    private HttpServer upstream;

    @BeforeEach
    void startUpstream() throws Exception {
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        upstream.createContext("/", exchange -> {
            byte[] body = "ok\n".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        upstream.setExecutor(Executors.newFixedThreadPool(8));
        upstream.start();
    }

    @AfterEach
    void stopUpstream() {
        upstream.stop(0);
    }

    private String gateway() {
        return "version: 1\n"
                + "gateway:\n"
                + "  listen: \"127.0.0.1:${SLUICE_LISTEN_PORT}\"\n"
                + "  upstream: http://127.0.0.1:" + upstream.getAddress().getPort() + "\n"
                + "  admin: \"127.0.0.1:${SLUICE_ADMIN_PORT:-9090}\"\n";
    }

    private static ServeProcess start(String name, Path file) {
        int listen = FreePort.find();
        int admin = FreePort.find();
        return ServeProcess.start(name, file, listen, admin,
                Map.of("SLUICE_LISTEN_PORT", Integer.toString(listen), "SLUICE_ADMIN_PORT", Integer.toString(admin)));
    }

    /** The users whose second request within the hour is refused: those the rollout enforces. */
    private static Set<String> enforced(ServeProcess serve) throws Exception {
        Set<String> enforced = new ConcurrentSkipListSet<>();
        List<Throwable> failures = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int first = t;
            Thread thread = new Thread(() -> {
                HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                try {
                    for (int u = first; u < USERS; u += 4) {
                        String user = "user-" + u;
                        HttpRequest request = HttpRequest.newBuilder(serve.uri("/api/search"))
                                .header("X-User", user).timeout(Duration.ofSeconds(30)).build();
                        int one = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
                        int two = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
                        if (one != 200 || (two != 200 && two != 429)) {
                            throw new AssertionError(user + ": " + one + ", " + two);
                        }
                        if (two == 429) {
                            enforced.add(user);
                        }
                    }
                } catch (Throwable e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            });
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join(120_000);
        }
        assertThat(failures).isEmpty();
        return new TreeSet<>(enforced);
    }

    @Test
    void rollout30Percent_twoInstancesOfOneFileAndARestart_enforceTheSameShareOfIdentities() throws Exception {
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, gateway()
                + "policies:\n"
                + "  - name: search\n"
                + "    match: { paths: [\"/api/**\"] }\n"
                + "    by: header:X-User\n"
                + "    limits: [\"1/hour\"]\n"
                + "    rollout: 30%\n");
        Set<String> first;
        Set<String> second;
        try (ServeProcess a = start("sluice-rollout-a", file); ServeProcess b = start("sluice-rollout-b", file)) {
            first = enforced(a);
            second = enforced(b);
            assertThat(a.adminGet("/metrics").body()).contains("sluice_requests_total{outcome=\"shadow_limited\",policy=\"search\",via=\"gateway\"} "
                    + (USERS - first.size()) + ".0");
        }
        Set<String> restarted;
        try (ServeProcess again = start("sluice-rollout-restarted", file)) {
            restarted = enforced(again);
        }

        assertThat(first.size() / (double) USERS * 100).as("enforced share, percent").isBetween(25.0, 35.0);
        assertThat(second).as("the other instance enforces the same identities").isEqualTo(first);
        assertThat(restarted).as("after a restart too").isEqualTo(first);
    }

    @Test
    void shadowPolicyOnARouteWithDefaults_staysLimitedByTheDefaults() throws Exception {
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, gateway()
                + "defaults: { by: ip, limits: [\"5/minute\"] }\n"
                + "policies:\n"
                + "  - name: new-search\n"
                + "    match: { paths: [\"/api/**\"] }\n"
                + "    limits: [\"1/minute\"]\n"
                + "    mode: shadow\n");
        try (ServeProcess serve = start("sluice-shadow-defaults", file)) {
            for (int i = 0; i < 5; i++) {
                assertThat(serve.get("/api/search").statusCode()).isEqualTo(200);
            }
            HttpResponse<String> limited = serve.get("/api/search");
            assertThat(limited.statusCode()).isEqualTo(429);
            assertThat(limited.body()).contains("\"policy\":\"default\"");
            assertThat(serve.adminGet("/metrics").body())
                    .contains("sluice_requests_total{outcome=\"shadow_limited\",policy=\"new-search\",via=\"gateway\"} 5.0");
        }
    }

    @Test
    void partialRollout_identitiesLeftInShadowStayLimitedByTheDefaults() throws Exception {
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, gateway()
                + "defaults: { by: \"header:X-User\", limits: [\"3/minute\"] }\n"
                + "policies:\n"
                + "  - name: search\n"
                + "    match: { paths: [\"/api/**\"] }\n"
                + "    by: header:X-User\n"
                + "    limits: [\"1/minute\"]\n"
                + "    rollout: 10%\n");
        try (ServeProcess serve = start("sluice-rollout-defaults", file)) {
            int enforcedUsers = 0;
            int shadowUsers = 0;
            for (int u = 0; u < 60; u++) {
                int admitted = 0;
                for (int i = 0; i < 5; i++) {
                    if (serve.get("/api/search", "X-User", "u" + u).statusCode() == 200) {
                        admitted++;
                    }
                }
                assertThat(admitted).as("user u%d: the policy's 1 or the defaults' 3", u).isIn(1, 3);
                if (admitted == 1) {
                    enforcedUsers++;
                } else {
                    shadowUsers++;
                }
            }
            assertThat(enforcedUsers).isPositive();
            assertThat(shadowUsers).isGreaterThan(enforcedUsers);
        }
    }
}
