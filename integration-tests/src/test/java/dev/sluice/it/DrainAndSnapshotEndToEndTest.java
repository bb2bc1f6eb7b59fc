package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.testkit.FlaskApp;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Graceful stop and the memory-store snapshot (SPEC §9) with a real {@code sluice serve} process in
 * front of Flask under gunicorn (its {@code /api/reports} sleeps as long as asked).
 */
class DrainAndSnapshotEndToEndTest {
    @TempDir Path dir;

    private static String file(FlaskApp flask, int listen, int admin, String extra) {
        return "version: 1\n"
                + "gateway:\n"
                + "  listen: 127.0.0.1:" + listen + "\n"
                + "  upstream: " + flask.uri() + "\n"
                + "  admin: 127.0.0.1:" + admin + "\n"
                + extra;
    }

    @Test
    void sigterm_slowRequestFinishesReadyzTurns503AtOnceNewConnectionsRefusedAfterGraceExitZero() throws Exception {
        try (FlaskApp flask = FlaskApp.start()) {
            int[] ports = ServeProcess.ports();
            Path file = dir.resolve("sluice.yaml");
            Files.writeString(file, file(flask, ports[0], ports[1],
                    "  drain_grace: 1s\n  shutdown_timeout: 20s\n"));
            try (ServeProcess serve = ServeProcess.start("sluice-drain", file, ports[0], ports[1])) {
                CompletableFuture<HttpResponse<String>> slow = ServeProcess.HTTP.sendAsync(
                        HttpRequest.newBuilder(serve.uri("/api/reports/7?delay=4"))
                                .header("X-API-Key", "demo-key-alice").timeout(Duration.ofSeconds(30)).build(),
                        HttpResponse.BodyHandlers.ofString());
                long waitFor = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (flask.stats().inFlight() < 1) {
                    assertThat(System.nanoTime()).as("the slow request reaches the app").isLessThan(waitFor);
                    Thread.sleep(10);
                }

                serve.process.signal("TERM");
                long signalled = System.nanoTime();
                while (serve.adminGet("/readyz").statusCode() != 503) {
                    Thread.sleep(2);
                }
                long readyzMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - signalled);
                assertThat(serve.adminGet("/readyz").body()).isEqualTo("draining");
                HttpResponse<String> duringGrace = ServeProcess.HTTP.send(
                        HttpRequest.newBuilder(serve.uri("/api/items")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(duringGrace.statusCode()).as("still served during the grace").isEqualTo(200);

                Thread.sleep(Math.max(0, 1_500 - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - signalled)));
                assertThatThrownBy(() -> {
                    try (Socket socket = new Socket()) {
                        socket.connect(new InetSocketAddress("127.0.0.1", serve.listen), 2_000);
                    }
                }).as("a new connection after the grace").isInstanceOf(ConnectException.class);

                HttpResponse<String> finished = slow.get(30, TimeUnit.SECONDS);
                assertThat(finished.statusCode()).as("the in-flight request completes").isEqualTo(200);
                assertThat(finished.body()).contains("\"took_seconds\":4");
                OptionalInt status = serve.process.awaitExit(Duration.ofSeconds(20));
                assertThat(status).as(serve.log()).hasValue(0);
                assertThat(readyzMillis).as("/readyz turned 503 within 100 ms of SIGTERM").isLessThan(100);
                assertThat(serve.log()).contains("stopping: /readyz answers 503").contains("sluice stopped");
            }
        }
    }

    @Test
    void secondSigterm_exitsAtOnce() throws Exception {
        try (FlaskApp flask = FlaskApp.start()) {
            int[] ports = ServeProcess.ports();
            Path file = dir.resolve("sluice.yaml");
            Files.writeString(file, file(flask, ports[0], ports[1], "  drain_grace: 30s\n"));
            try (ServeProcess serve = ServeProcess.start("sluice-drain-twice", file, ports[0], ports[1])) {
                serve.process.signal("TERM");
                while (serve.adminGet("/readyz").statusCode() != 503) {
                    Thread.sleep(5);
                }
                long second = System.nanoTime();
                serve.process.signal("TERM");
                OptionalInt status = serve.process.awaitExit(Duration.ofSeconds(10));
                assertThat(status).as(serve.log()).hasValue(1);
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - second)).isLessThan(5_000);
            }
        }
    }

    private static String snapshotFile(FlaskApp flask, int listen, int admin) {
        return file(flask, listen, admin, "  drain_grace: 0s\n")
                + "clients: { api_key: { header: X-API-Key } }\n"
                + "store: { type: memory, snapshot: store.snapshot }\n"
                + "policies:\n"
                + "  - name: items\n"
                + "    match: { paths: [\"/api/items\"] }\n"
                + "    by: api_key\n"
                + "    limits: [\"3/hour\"]\n"
                + "  - name: login-failures\n"
                + "    match: { methods: [POST], paths: [\"/auth/login\"] }\n"
                + "    by: ip\n"
                + "    count: { status: [401] }\n"
                + "    limits: [\"2/hour\"]\n"
                + "    penalty: { ban: 10m, escalate: 2x, max: 24h }\n";
    }

    private static int failedLogin(ServeProcess serve) throws Exception {
        return ServeProcess.HTTP.send(HttpRequest.newBuilder(serve.uri("/auth/login"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"username\": \"bob\", \"password\": \"wrong\"}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private static long banSeconds(ServeProcess serve) throws Exception {
        String body = serve.adminGet("/v1/bans").body();
        var bans = new com.fasterxml.jackson.databind.ObjectMapper().readTree(body).get("bans");
        return bans.get(0).get("remaining_seconds").asLong();
    }

    @Test
    void snapshot_bansOffencesAndUsedUpBucketsSurviveSigtermAndStart() throws Exception {
        try (FlaskApp flask = FlaskApp.start()) {
            int[] ports = ServeProcess.ports();
            Path file = dir.resolve("sluice.yaml");
            Files.writeString(file, snapshotFile(flask, ports[0], ports[1]));
            try (ServeProcess first = ServeProcess.start("sluice-snapshot-1", file, ports[0], ports[1])) {
                for (int i = 0; i < 3; i++) {
                    assertThat(first.get("/api/items", "X-API-Key", "demo-key-alice").statusCode()).isEqualTo(200);
                }
                assertThat(first.get("/api/items", "X-API-Key", "demo-key-alice").statusCode()).isEqualTo(429);
                assertThat(failedLogin(first)).isEqualTo(401);
                assertThat(failedLogin(first)).isEqualTo(401);
                assertThat(failedLogin(first)).as("third failure trips the ban").isEqualTo(429);
                assertThat(banSeconds(first)).isBetween(500L, 600L);
                first.process.signal("TERM");
                assertThat(first.process.awaitExit(Duration.ofSeconds(30))).as(first.log()).hasValue(0);
                assertThat(first.log()).contains("wrote the memory-store snapshot");
            }
            assertThat(dir.resolve("store.snapshot")).exists();

            try (ServeProcess second = ServeProcess.start("sluice-snapshot-2", file, ports[0], ports[1])) {
                assertThat(second.log()).contains("restored the memory store from");
                assertThat(second.get("/api/items", "X-API-Key", "demo-key-alice").statusCode())
                        .as("the used-up bucket survived").isEqualTo(429);
                assertThat(second.get("/api/items", "X-API-Key", "demo-key-bob").statusCode()).isEqualTo(200);
                HttpResponse<String> banned = second.get("/api/items", "X-API-Key", "demo-key-bob");
                assertThat(failedLogin(second)).as("the ban survived").isEqualTo(429);
                assertThat(banSeconds(second)).isBetween(450L, 600L);
                // Lift the ban keeping the offence history (a plain unban forgets it): the offence
                // count restored from the snapshot must still be 1, so the next trip bans for 2 × 10m.
                String id = new com.fasterxml.jackson.databind.ObjectMapper()
                        .readTree(second.adminGet("/v1/bans").body()).get("bans").get(0).get("id").asText();
                assertThat(ServeProcess.HTTP.send(HttpRequest.newBuilder(
                                second.adminUri("/v1/bans/" + id + "?keep_offences=true")).DELETE().build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(204);
                assertThat(failedLogin(second)).as("the lift cleared the bucket").isEqualTo(401);
                assertThat(failedLogin(second)).isEqualTo(401);
                assertThat(failedLogin(second)).as("the third failure trips again").isEqualTo(429);
                assertThat(banSeconds(second)).as("second offence: escalated").isBetween(1_100L, 1_200L);
                assertThat(banned.statusCode()).isEqualTo(200);
            }
        }
    }

    @Test
    void snapshot_truncated_isIgnoredWithAWarning() throws Exception {
        try (FlaskApp flask = FlaskApp.start()) {
            int[] ports = ServeProcess.ports();
            Path file = dir.resolve("sluice.yaml");
            Files.writeString(file, snapshotFile(flask, ports[0], ports[1]));
            try (ServeProcess first = ServeProcess.start("sluice-snapshot-t1", file, ports[0], ports[1])) {
                for (int i = 0; i < 3; i++) {
                    first.get("/api/items", "X-API-Key", "demo-key-alice");
                }
                first.process.signal("TERM");
                assertThat(first.process.awaitExit(Duration.ofSeconds(30))).hasValue(0);
            }
            Path snapshot = dir.resolve("store.snapshot");
            byte[] bytes = Files.readAllBytes(snapshot);
            Files.write(snapshot, Arrays.copyOf(bytes, bytes.length / 2));

            try (ServeProcess second = ServeProcess.start("sluice-snapshot-t2", file, ports[0], ports[1])) {
                assertThat(second.log()).contains("WARN").contains("ignoring the memory-store snapshot " + snapshot)
                        .contains("truncated");
                assertThat(second.get("/api/items", "X-API-Key", "demo-key-alice").statusCode())
                        .as("an empty store").isEqualTo(200);
            }
        }
    }
}
