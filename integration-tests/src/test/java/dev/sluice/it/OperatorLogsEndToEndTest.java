package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.FreePort;
import dev.sluice.testkit.ManagedProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator expects of the files and logs of a real {@code sluice serve} process (issue
 * 10): {@code audit_log} relative to the policy file's folder whatever the working directory,
 * {@code SIGUSR1} reopening it after logrotate renamed it, and the process log's format and level
 * switches.
 */
class OperatorLogsEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir Path dir;

    private Path policyFile(FlaskApp app, int port, int admin) throws Exception {
        Path etc = Files.createDirectories(dir.resolve("etc"));
        Path file = etc.resolve("sluice.yaml");
        Files.writeString(file, """
                version: 1
                gateway:
                  listen: 127.0.0.1:%d
                  upstream: %s
                  admin: 127.0.0.1:%d
                audit_log: audit.jsonl   # beside this file, whatever the working directory
                policies:
                  - name: items
                    match: { paths: ["/api/items"] }
                    limits: ["1/hour"]
                """.formatted(port, app.uri(), admin));
        return file;
    }

    private ManagedProcess serve(Path file, int admin, String name, String... extra) throws Exception {
        Path elsewhere = Files.createDirectories(dir.resolve("cwd"));
        List<String> args = new ArrayList<>(List.of("serve", "-c", file.toString()));
        args.addAll(List.of(extra));
        return ManagedProcess.builder(name, SluiceProcess.command(args.toArray(String[]::new)))
                .directory(elsewhere)
                .readyWhenHttpOk(URI.create("http://127.0.0.1:" + admin + "/readyz"))
                .startupTimeout(Duration.ofSeconds(60))
                .start();
    }

    private static int get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static List<String> lines(Path file) throws Exception {
        return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void serve_relativeAuditLog_sigusr1AfterRename_nextLineGoesToTheNewFile() throws Exception {
        int port = FreePort.find();
        int admin = FreePort.find();
        try (FlaskApp app = FlaskApp.start()) {
            Path file = policyFile(app, port, admin);
            Path audit = file.resolveSibling("audit.jsonl");
            Path rotated = file.resolveSibling("audit.jsonl.1");
            try (ManagedProcess serve = serve(file, admin, "sluice-serve-usr1", "--log-format", "json")) {
                assertThat(get(port, "/api/items")).isEqualTo(200);
                assertThat(get(port, "/api/items?n=1")).isEqualTo(429);
                await("the first audit line is written beside the policy file", () -> uncheckedLines(audit).size() == 1);
                assertThat(Files.exists(dir.resolve("cwd/audit.jsonl"))).as("not in the working directory").isFalse();

                Files.move(audit, rotated);
                serve.signal("USR1");
                await("the reopen is logged", () -> serve.logTail().contains("audit log reopened"));
                assertThat(get(port, "/api/items?n=2")).isEqualTo(429);

                await("the next line goes to a new file", () -> uncheckedLines(audit).size() == 1);
                assertThat(lines(rotated)).hasSize(1);
                assertThat(JSON.readTree(lines(audit).get(0)).get("policy").asText()).isEqualTo("items");
                assertThat(serve.isAlive()).isTrue();

                // --log-format json: every line of the process log is one JSON object.
                List<String> log = Files.readAllLines(serve.logFile(), StandardCharsets.UTF_8).stream()
                        .filter(l -> !l.isBlank()).toList();
                assertThat(log).isNotEmpty();
                for (String line : log) {
                    JsonNode event = JSON.readTree(line);
                    assertThat(event.has("level") && event.has("loggerName") && event.has("formattedMessage"))
                            .as(line).isTrue();
                }
                assertThat(log).anyMatch(l -> l.contains("\"level\":\"INFO\"") && l.contains("sluice listening on"));
            }
        }
    }

    @Test
    void serve_logLevelFromEnvironment_warnHidesInfo_andPlainIsTheDefaultFormat() throws Exception {
        int port = FreePort.find();
        int admin = FreePort.find();
        try (FlaskApp app = FlaskApp.start()) {
            Path file = policyFile(app, port, admin);
            Path elsewhere = Files.createDirectories(dir.resolve("cwd"));
            try (ManagedProcess serve = ManagedProcess.builder("sluice-serve-warn", SluiceProcess.command("serve", "-c",
                            file.toString()))
                    .directory(elsewhere)
                    .environment("SLUICE_LOG_LEVEL", "warn")
                    .readyWhenHttpOk(URI.create("http://127.0.0.1:" + admin + "/readyz"))
                    .startupTimeout(Duration.ofSeconds(60))
                    .start()) {
                assertThat(get(port, "/api/items")).isEqualTo(200);
                assertThat(serve.logTail()).doesNotContain("sluice listening on").doesNotContain("{\"");
            }
            try (ManagedProcess serve = serve(file, admin, "sluice-serve-info")) {
                // plain: the pattern of logback.xml, e.g. "12:00:00.000 INFO  ServeCommand - sluice listening on …"
                await("the start is logged", () -> serve.logTail().contains("sluice listening on"));
                assertThat(serve.logTail()).containsPattern("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  ServeCommand - sluice listening on");
            }
        }
    }

    @Test
    void serve_ownLogbackFile_isKeptAsItIs_notReplacedByTheLogOptions() throws Exception {
        int port = FreePort.find();
        int admin = FreePort.find();
        Path own = dir.resolve("own.log");
        Path config = dir.resolve("logback-own.xml");
        Files.writeString(config, """
                <configuration>
                  <appender name="file" class="ch.qos.logback.core.FileAppender">
                    <file>%s</file>
                    <encoder><pattern>OWN %%level %%msg%%n</pattern></encoder>
                  </appender>
                  <root level="DEBUG"><appender-ref ref="file"/></root>
                </configuration>
                """.formatted(own));
        try (FlaskApp app = FlaskApp.start()) {
            Path file = policyFile(app, port, admin);
            List<String> command = new ArrayList<>(SluiceProcess.command("serve", "-c", file.toString(),
                    "--log-format", "json"));
            command.add(1, "-Dlogback.configurationFile=" + config);
            try (ManagedProcess serve = ManagedProcess.builder("sluice-serve-own-logback", command)
                    .directory(Files.createDirectories(dir.resolve("cwd")))
                    .readyWhenHttpOk(URI.create("http://127.0.0.1:" + admin + "/readyz"))
                    .startupTimeout(Duration.ofSeconds(60))
                    .start()) {
                await("the start is logged to the operator's file", () -> uncheckedLines(own).stream()
                        .anyMatch(l -> l.startsWith("OWN INFO sluice listening on")));
                // Its root level (DEBUG) holds too, not --log-level's default (info).
                assertThat(uncheckedLines(own)).anyMatch(l -> l.startsWith("OWN DEBUG"));
                assertThat(serve.logTail()).doesNotContain("{\"");
            }
        }
    }

    @Test
    void serve_badLogFormat_exitsTwoNamingTheOption() throws Exception {
        SluiceProcess.Result result = SluiceProcess.run(dir, java.util.Map.of("SLUICE_LOG_FORMAT", "xml"),
                "serve", "-c", "whatever.yaml");

        assertThat(result.exitCode()).as(result.output()).isEqualTo(2);
        assertThat(result.stderr()).contains("--log-format").contains("xml");
    }

    private static List<String> uncheckedLines(Path file) {
        try {
            return lines(file);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
