package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.FreePort;
import dev.sluice.testkit.RawHttp;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@code gateway.upstream} as a list of three real gunicorn + Flask processes: traffic spreads,
 * one killed mid-traffic costs at most the requests it had in flight, it is skipped while down
 * ({@code sluice_upstream_up} 0) and gets traffic again after it restarts on its port.
 */
class SeveralUpstreamsEndToEndTest {

    private static final String REST = """
            defaults:
              by: ip
              limits: ["1000000/minute"]
            """;
    private static final int CLIENTS = 4;

    @Test
    void threeUpstreams_spreadTraffic_surviveOneKilled_andProbeItBackAfterRestart() throws Exception {
        FlaskApp a = FlaskApp.start();
        FlaskApp b = FlaskApp.start();
        FlaskApp c = FlaskApp.start();
        FlaskApp bAgain = null;
        String upstreams = "  upstream: [" + a.uri() + ", " + b.uri() + ", " + c.uri() + "]\n";
        try (GatewayUnderTest gateway = GatewayUnderTest.start(parse(upstreams))) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            URI items = gateway.uri().resolve("/api/items");

            // Spread: 30 requests, round robin over three healthy upstreams.
            for (int i = 0; i < 30; i++) {
                assertThat(get(http, items)).isEqualTo(200);
            }
            for (FlaskApp app : List.of(a, b, c)) {
                assertThat(app.stats().hits("/api/items")).as("hits on " + app.uri()).isBetween(8L, 12L);
            }

            // Kill b mid-traffic: CLIENTS threads keep sending, one request at a time each.
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger ok = new AtomicInteger();
            List<Integer> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < CLIENTS; t++) {
                Thread thread = new Thread(() -> {
                    while (running.get()) {
                        int status = get(http, items);
                        if (status == 200) {
                            ok.incrementAndGet();
                        } else {
                            failures.add(status);
                        }
                    }
                });
                thread.start();
                threads.add(thread);
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> ok.get() > 50);
            b.kill();
            int failedAtKill;
            int okAtKill = ok.get();
            await().atMost(Duration.ofSeconds(30)).until(() -> ok.get() > okAtKill + 200);
            failedAtKill = failures.size();
            // Only requests in flight on b when it died may fail (one per client at most), as 502.
            assertThat(failedAtKill).as("failures around the kill: " + failures).isLessThanOrEqualTo(CLIENTS);
            assertThat(failures).allMatch(s -> s == 502);
            assertThat(gateway.metrics().sum("sluice_upstream_up", Map.of("upstream", b.uri().toString())))
                    .as("b is skipped while down").isEqualTo(0.0);
            int okBefore = ok.get();
            await().atMost(Duration.ofSeconds(30)).until(() -> ok.get() > okBefore + 200);
            assertThat(failures.size()).as("no failure once b is known down: " + failures).isEqualTo(failedAtKill);

            // b comes back on its port: after the cool-down it is probed and gets traffic again.
            bAgain = FlaskApp.start(Map.of(), b.port());
            FlaskApp restarted = bAgain;
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> restarted.stats().hits("/api/items") > 10);
            assertThat(gateway.metrics().sum("sluice_upstream_up", Map.of("upstream", b.uri().toString())))
                    .isEqualTo(1.0);
            running.set(false);
            for (Thread thread : threads) {
                thread.join(30_000);
            }
            assertThat(failures.size()).as("no failure while b came back: " + failures).isEqualTo(failedAtKill);
            for (FlaskApp app : List.of(a, c)) {
                assertThat(gateway.metrics().sum("sluice_upstream_requests_total",
                        Map.of("upstream", app.uri().toString()))).isGreaterThan(100.0);
            }
        } finally {
            for (FlaskApp app : new FlaskApp[] {a, b, c, bAgain}) {
                if (app != null) {
                    app.close();
                }
            }
        }
    }

    @Test
    void noUpstreamAnswers_is502ProblemJsonNamingEach() throws Exception {
        // Held, not found free: a released port once went to the gateway's own listener (a 404).
        try (Socket held1 = FreePort.refusing(); Socket held2 = FreePort.refusing()) {
            noUpstreamAnswers(URI.create("http://127.0.0.1:" + held1.getLocalPort()),
                    URI.create("http://127.0.0.1:" + held2.getLocalPort()));
        }
    }

    private void noUpstreamAnswers(URI dead1, URI dead2) {
        try (GatewayUnderTest gateway = GatewayUnderTest.start(
                parse("  upstream: [" + dead1 + ", " + dead2 + "]\n"))) {
            RawHttp.Response response = RawHttp.get(gateway.address(), null, "/api/items", Map.of());
            assertThat(response.status()).isEqualTo(502);
            assertThat(response.header("Content-Type")).startsWith("application/problem+json");
            assertThat(response.bodyText()).contains(dead1.toString()).contains(dead2.toString());
            // Both are down now; the next request still probes one of them, and is again a 502.
            assertThat(RawHttp.get(gateway.address(), null, "/api/items", Map.of()).status()).isEqualTo(502);
        }
    }

    private static dev.sluice.config.SluiceConfig parse(String upstreamLine) {
        String yaml = "version: 1\ngateway:\n  listen: 127.0.0.1:0\n  admin: 127.0.0.1:0\n" + upstreamLine + REST;
        try {
            return dev.sluice.config.ConfigLoader.parse(yaml, "upstreams.yaml");
        } catch (dev.sluice.config.ConfigException e) {
            throw new AssertionError(e.errors().toString(), e);
        }
    }

    private static int get(HttpClient http, URI uri) {
        try {
            return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }
}
