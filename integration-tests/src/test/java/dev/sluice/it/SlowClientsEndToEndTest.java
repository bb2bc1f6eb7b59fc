package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RawHttp;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 9 (slow clients), against real gunicorn + Flask: a slowloris from one address — 400
 * connections trickling a header line every 100 ms and reconnecting when cut off — never reaches
 * the app and does not starve a client on another address; a stalled upload is cut off with 408
 * and the app's worker thread, which was reading it, is let go at once (the upstream connection
 * is aborted, so the app sees a broken upload, never a complete one).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SlowClientsEndToEndTest {
    private static final InetAddress ATTACKER = address("127.0.0.1");
    private static final InetAddress LEGIT = address("127.0.0.2");

    private static FlaskApp app;
    private static GatewayUnderTest gateway;

    @BeforeAll
    static void start() {
        app = FlaskApp.start();
        gateway = GatewayUnderTest.start(app.uri(),
                "  header_timeout: 500ms\n  body_timeout: 500ms\n  max_connections_per_ip: 50\n",
                "defaults:\n  by: ip\n  limits: [\"100000/minute\"]\n");
    }

    @AfterAll
    static void stop() {
        try {
            gateway.close();
        } finally {
            app.stop();
        }
    }

    @BeforeEach
    void reset() {
        app.reset();
    }

    @Test
    void slowloris_fromOneAddress_neverReachesTheApp_andAnotherClientIsServed() throws Exception {
        AtomicBoolean attacking = new AtomicBoolean(true);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread attacker = new Thread(() -> {
            Socket[] sockets = new Socket[400];
            try {
                while (attacking.get()) {
                    for (int i = 0; i < sockets.length && attacking.get(); i++) {
                        try {
                            if (sockets[i] == null) {
                                Socket s = new Socket();
                                s.bind(new InetSocketAddress(ATTACKER, 0));
                                s.connect(gateway.address(), 2000);
                                sockets[i] = s;
                                write(s, "GET /api/items HTTP/1.1\r\nHost: a\r\n");
                            } else {
                                write(sockets[i], "X-Slow: 1\r\n");
                            }
                        } catch (IOException cutOff) {
                            close(sockets[i]);
                            sockets[i] = null;
                        }
                    }
                    Thread.sleep(100);
                }
            } catch (Throwable t) {
                failure.set(t);
            } finally {
                for (Socket s : sockets) {
                    close(s);
                }
            }
        }, "slowloris");
        attacker.start();
        int ok = 0;
        try {
            Thread.sleep(1000);
            for (int i = 0; i < 100; i++) {
                try {
                    if (RawHttp.get(gateway.address(), LEGIT, "/api/search?q=" + i, Map.of()).status() == 200) {
                        ok++;
                    }
                } catch (RuntimeException e) {
                    // a failed request: counted by its absence
                }
            }
        } finally {
            attacking.set(false);
            attacker.join(10_000);
        }

        assertThat(failure.get()).isNull();
        assertThat(ok).as("requests of the client on another address served").isGreaterThanOrEqualTo(99);
        FlaskApp.Stats stats = app.stats();
        assertThat(stats.hits("/api/search")).isEqualTo(ok);
        assertThat(stats.hits("/api/items")).as("no trickled head ever reached the app").isZero();
        Metrics metrics = gateway.metrics();
        assertThat(metrics.sum("sluice_connections_refused_total", Map.of("reason", "max_connections_per_ip")))
                .as("attacker connections refused at accept").isPositive();
        assertThat(metrics.sum("sluice_client_timeouts_total", Map.of("phase", "head")))
                .as("trickled heads cut off at the deadline").isPositive();
    }

    @Test
    void stalledUpload_isCutOffWith408_andTheAppsWorkerIsLetGo() throws Exception {
        byte[] partial = ("POST /api/echo HTTP/1.1\r\nHost: a\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Length: 100\r\n\r\n0123456789").getBytes(StandardCharsets.ISO_8859_1);
        long start = System.nanoTime();

        RawHttp.Response response = RawHttp.send(gateway.address(), LEGIT, partial, false, Duration.ofSeconds(10));

        assertThat(response.status()).isEqualTo(408);
        assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        // The app started reading the streamed upload; the abort ends its read instead of leaving a
        // worker thread waiting for 90 more bytes.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (app.stats().inFlight() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(app.stats().inFlight()).as("app requests still in flight").isZero();
    }

    private static void write(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private static void close(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already reset
            }
        }
    }

    private static InetAddress address(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
