package dev.sluice.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The example API ({@code examples/flask-api/app.py}) under Debian's gunicorn on a free
 * {@code 127.0.0.1} port, with its test hooks ({@code /__stats}, {@code /__reset},
 * {@code /__big}) switched on.
 *
 * <p>It runs one worker process with 16 threads, so the hit counters in {@link #stats()} are
 * exact: they say precisely which requests reached the upstream.
 */
public final class FlaskApp implements AutoCloseable {

    private static final String GUNICORN = "/usr/bin/gunicorn";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ManagedProcess process;
    private final int port;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private FlaskApp(ManagedProcess process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts the app with the default environment (test hooks on, {@code PROXY_FIX_X_FOR=1}). */
    public static FlaskApp start() {
        return start(Map.of());
    }

    /**
     * Starts the app with extra environment variables (e.g. {@code PROXY_FIX_X_FOR=2}).
     *
     * @throws IllegalStateException if gunicorn or Flask is missing (naming the Debian package),
     *                               or the app does not answer {@code /healthz} within 30 s
     */
    public static FlaskApp start(Map<String, String> environment) {
        return start(environment, FreePort.find());
    }

    /**
     * Starts the app on a given port, e.g. again on the port of one that was killed (an upstream
     * coming back).
     */
    public static FlaskApp start(Map<String, String> environment, int port) {
        Path gunicorn = Executables.require("gunicorn", "gunicorn", GUNICORN);
        if (!Files.isDirectory(Path.of("/usr/lib/python3/dist-packages/flask"))) {
            throw new IllegalStateException("Flask for Debian's python (/usr/bin/python3) is not installed; "
                    + "install the Debian package: apt-get install -y python3-flask "
                    + "(./scripts/test.sh installs every package the tests need)");
        }
        Path appDir = RepoRoot.find().resolve("examples/flask-api");
        if (!Files.isRegularFile(appDir.resolve("app.py"))) {
            throw new IllegalStateException("the example app is missing: expected " + appDir.resolve("app.py"));
        }
        ManagedProcess.Builder builder = ManagedProcess.builder("gunicorn", List.of(
                        gunicorn.toString(),
                        "--workers", "1", "--threads", "16", "--worker-class", "gthread",
                        "--bind", "127.0.0.1:" + port,
                        // In-flight slow requests must not hold a test's teardown for 30 s.
                        "--graceful-timeout", "2",
                        "--timeout", "60",
                        "--chdir", appDir.toString(),
                        "app:app"))
                .directory(appDir)
                .environment("SLUICE_EXAMPLE_TEST_HOOKS", "1")
                .environment("PYTHONDONTWRITEBYTECODE", "1")
                .environment("PYTHONUNBUFFERED", "1")
                .readyWhenHttpOk(URI.create("http://127.0.0.1:" + port + "/healthz"));
        environment.forEach(builder::environment);
        return new FlaskApp(builder.start(), port);
    }

    /** The port gunicorn listens on. */
    public int port() {
        return port;
    }

    /** {@code 127.0.0.1:port}. */
    public InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    /** {@code http://127.0.0.1:port}, to use as the gateway's upstream. */
    public URI uri() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** The gunicorn process (log file, PID). */
    public ManagedProcess process() {
        return process;
    }

    /**
     * What has reached the app since the last {@link #reset()}: hits per path and in-flight counts.
     * Requests to the hooks themselves are not counted.
     */
    public Stats stats() {
        JsonNode body = call(HttpRequest.newBuilder(uri().resolve("/__stats")).GET());
        Map<String, Long> hits = new LinkedHashMap<>();
        body.get("hits").fields().forEachRemaining(entry -> hits.put(entry.getKey(), entry.getValue().asLong()));
        return new Stats(Map.copyOf(hits), body.get("total").asLong(), body.get("in_flight").asLong(),
                body.get("max_in_flight").asLong());
    }

    /** Zeroes the app's counters. */
    public void reset() {
        call(HttpRequest.newBuilder(uri().resolve("/__reset")).POST(HttpRequest.BodyPublishers.noBody()));
    }

    /** Stops gunicorn gracefully (SIGTERM, then SIGKILL). */
    public void stop() {
        process.stop();
    }

    /** Kills gunicorn and its worker at once, as a crash would. */
    public void kill() {
        process.kill();
    }

    @Override
    public void close() {
        stop();
    }

    private JsonNode call(HttpRequest.Builder request) {
        HttpRequest built = request.timeout(Duration.ofSeconds(5)).build();
        try {
            HttpResponse<String> response = http.send(built, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException(built.method() + " " + built.uri() + " answered " + response.statusCode()
                        + " (expected 200; are the test hooks on?): " + response.body() + "\n" + process.logTail());
            }
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(built.method() + " " + built.uri() + " failed\n" + process.logTail(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while calling " + built.uri(), e);
        }
    }

    /**
     * A snapshot of the example app's counters.
     *
     * @param hits        requests per path ({@code PATH_INFO}) that reached the app
     * @param total       all counted requests
     * @param inFlight    requests being handled right now
     * @param maxInFlight the most requests handled at once
     */
    public record Stats(Map<String, Long> hits, long total, long inFlight, long maxInFlight) {

        /** Hits for one path, 0 when it was never requested. */
        public long hits(String path) {
            return hits.getOrDefault(path, 0L);
        }
    }
}
