package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.GatewaySettings;
import dev.sluice.config.SluiceConfig;
import dev.sluice.testkit.RawHttp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;

/**
 * Shared pieces of the abuse-control end-to-end tests (SPEC §7): policy files using the §7 keys,
 * login attempts, and the problem type of a ban.
 */
final class AbuseGateways {

    /** Problem type of a ban (SPEC §7). */
    static final String ABNORMAL_USAGE = "https://iana.org/assignments/http-problem-types#abnormal-usage-detected";
    /** The admin token the tests' policy files read from {@code SLUICE_ADMIN_TOKEN}. */
    static final String ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef";
    static final Map<String, String> ENV = Map.of("SLUICE_ADMIN_TOKEN", ADMIN_TOKEN);

    private static final ObjectMapper JSON = new ObjectMapper();

    private AbuseGateways() {
    }

    /**
     * Parses a policy file like {@link GatewayUnderTest#parse} does (both listeners on port 0),
     * with secrets from {@link #ENV}.
     */
    static SluiceConfig parse(URI upstream, String gatewayExtras, String rest) {
        String yaml = "version: 1\n"
                + "gateway:\n"
                + "  listen: 127.0.0.1:0\n"
                + "  upstream: " + upstream + "\n"
                + "  admin: 127.0.0.1:0\n"
                + gatewayExtras
                + rest;
        try {
            return ConfigLoader.parse(yaml, "abuse-e2e.yaml", ENV::get);
        } catch (ConfigException e) {
            throw new AssertionError("the test's policy file is invalid: " + e.errors() + "\n" + yaml, e);
        }
    }

    /**
     * The shipped abuse-control example ({@code examples/flask-api/sluice-abuse.yaml}) in front of
     * {@code upstream}, both listeners moved to free ports; everything else as in the file.
     */
    static SluiceConfig example(URI upstream) {
        Path file = dev.sluice.testkit.RepoRoot.find().resolve("examples/flask-api/sluice-abuse.yaml");
        SluiceConfig loaded;
        try {
            loaded = ConfigLoader.load(file, ENV::get);
        } catch (ConfigException e) {
            throw new AssertionError("the shipped " + file + " is invalid: " + e.errors(), e);
        }
        InetSocketAddress anyPort = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        GatewaySettings g = loaded.gateway();
        GatewaySettings moved = new GatewaySettings(anyPort, upstream, anyPort, g.upstreamTimeout(), g.maxInflight(),
                g.adminToken());
        return new SluiceConfig(loaded.source(), moved, loaded.store(), loaded.headers(), Optional.empty(),
                loaded.policies(), loaded.warnings());
    }

    /**
     * {@code POST /auth/login} with a JSON body, from {@code from} (nullable: the kernel's choice)
     * and, when {@code forwardedFor} is not null, claiming that client in {@code X-Forwarded-For}.
     */
    static RawHttp.Response login(InetSocketAddress gateway, InetAddress from, String forwardedFor, String username,
                                  String password) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "application/json");
        if (forwardedFor != null) {
            headers.put("X-Forwarded-For", forwardedFor);
        }
        byte[] body = ("{\"username\":\"" + username + "\",\"password\":\"" + password + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        return RawHttp.request(gateway, from, "POST", "/auth/login", headers, body);
    }

    /** The {@code type} member of a problem+json body, or a description of what came instead. */
    static String problemType(RawHttp.Response response) {
        try {
            JsonNode body = JSON.readTree(response.body());
            return body == null ? "(empty body)" : body.path("type").asText("(no type in " + body + ")");
        } catch (IOException e) {
            return "(not JSON: " + response.bodyText() + ")";
        }
    }

    /** {@code Retry-After} as seconds; fails the test when it is missing or not a number. */
    static long retryAfter(RawHttp.Response response) {
        String value = response.header("Retry-After");
        assertThat(value).as("Retry-After of a %d answer (headers %s)", response.status(), response.headers()).isNotNull();
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new AssertionError("Retry-After is not delay-seconds: " + value, e);
        }
    }

    /** Reads a JSON body, failing the test with the body text when it is not JSON. */
    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + text, e);
        }
    }

    /** A one-line description of a response for assertion messages. */
    static String describe(RawHttp.Response response) {
        return response.status() + " " + response.headers() + " " + response.bodyText();
    }

    /**
     * Runs {@code call.apply(i)} for {@code i = 0 .. count-1} on {@code threads} threads and
     * returns the results in index order. A worker's exception fails the test (rethrown, with the
     * others suppressed); so does not finishing within {@code timeoutSeconds}.
     */
    static <T> List<T> parallel(int count, int threads, long timeoutSeconds, IntFunction<T> call) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int index = i;
                futures.add(pool.submit(() -> call.apply(index)));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
            List<T> results = new ArrayList<>();
            Throwable failure = null;
            for (Future<T> future : futures) {
                try {
                    results.add(future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
                } catch (java.util.concurrent.ExecutionException e) {
                    if (failure == null) {
                        failure = e.getCause();
                    } else {
                        failure.addSuppressed(e.getCause());
                    }
                    results.add(null);
                } catch (TimeoutException e) {
                    throw new AssertionError(count + " calls on " + threads + " threads did not finish within "
                            + timeoutSeconds + " s", failure);
                }
            }
            if (failure instanceof Exception exception) {
                throw exception;
            }
            if (failure != null) {
                throw (Error) failure;
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }
}
