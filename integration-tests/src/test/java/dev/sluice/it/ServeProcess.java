package dev.sluice.it;

import dev.sluice.testkit.FreePort;
import dev.sluice.testkit.ManagedProcess;
import dev.sluice.testkit.RepoRoot;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A {@code sluice serve} process as users run it (the runnable jar, or {@code dev.sluice.cli.Main}
 * on the test class path when only {@code test} ran), with helpers for its listener and admin API.
 */
final class ServeProcess implements AutoCloseable {
    static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    final ManagedProcess process;
    final int listen;
    final int admin;

    private ServeProcess(ManagedProcess process, int listen, int admin) {
        this.process = process;
        this.listen = listen;
        this.admin = admin;
    }

    /**
     * Starts {@code sluice serve -c file}; ready when {@code /readyz} answers 200.
     *
     * @param env extra environment variables
     */
    static ServeProcess start(String name, Path file, int listen, int admin, Map<String, String> env) {
        ManagedProcess.Builder builder = ManagedProcess.builder(name, command(file))
                .readyWhenHttpOk(URI.create("http://127.0.0.1:" + admin + "/readyz"))
                .startupTimeout(Duration.ofSeconds(60));
        env.forEach(builder::environment);
        return new ServeProcess(builder.start(), listen, admin);
    }

    static ServeProcess start(String name, Path file, int listen, int admin) {
        return start(name, file, listen, admin, Map.of());
    }

    /** Two free ports: listen and admin. */
    static int[] ports() {
        return new int[] {FreePort.find(), FreePort.find()};
    }

    static List<String> command(Path file) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx256m");
        Path jar = Path.of(System.getProperty("sluice.cli.jar",
                RepoRoot.find().resolve("cli/target/sluice.jar").toString()));
        if (Files.isRegularFile(jar)) {
            command.add("-jar");
            command.add(jar.toString());
        } else {
            command.add("-cp");
            command.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
            command.add("dev.sluice.cli.Main");
        }
        command.addAll(List.of("serve", "-c", file.toString()));
        return command;
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + listen + path);
    }

    URI adminUri(String path) {
        return URI.create("http://127.0.0.1:" + admin + path);
    }

    HttpResponse<String> get(String path, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> adminGet(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(adminUri(path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> adminPost(String path, String json) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(adminUri(path)).timeout(Duration.ofSeconds(30))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    String log() {
        try {
            return Files.readString(process.logFile());
        } catch (IOException e) {
            return "(cannot read " + process.logFile() + ": " + e + ")";
        }
    }

    @Override
    public void close() {
        process.kill();
    }
}
