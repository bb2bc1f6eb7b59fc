package dev.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class FlaskAppTest {

    private static FlaskApp app;

    @BeforeAll
    static void startApp() {
        app = FlaskApp.start();
    }

    @AfterAll
    static void stopApp() {
        app.stop();
    }

    @Test
    void stats_afterRequests_countsEachPathExactlyAndResetZeroes() {
        app.reset();
        for (int i = 0; i < 3; i++) {
            assertThat(RawHttp.get(app.address(), null, "/api/search?q=an", Map.of()).status()).isEqualTo(200);
        }
        assertThat(RawHttp.get(app.address(), null, "/api/items", Map.of()).status()).isEqualTo(200);

        FlaskApp.Stats stats = app.stats();
        assertThat(stats.hits("/api/search")).isEqualTo(3);
        assertThat(stats.hits("/api/items")).isEqualTo(1);
        assertThat(stats.total()).isEqualTo(4);
        assertThat(stats.inFlight()).isZero();

        app.reset();
        assertThat(app.stats().total()).isZero();
    }

    @Test
    void login_knownAndUnknownUser_answers200WithTokenAnd401() {
        RawHttp.Response ok = RawHttp.request(app.address(), null, "POST", "/auth/login",
                Map.of("Content-Type", "application/json"),
                "{\"username\":\"alice\",\"password\":\"wonderland\"}".getBytes());
        RawHttp.Response bad = RawHttp.request(app.address(), null, "POST", "/auth/login",
                Map.of("Content-Type", "application/x-www-form-urlencoded"),
                "username=alice&password=nope".getBytes());

        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.bodyText()).contains("\"token\":\"ey");
        assertThat(bad.status()).isEqualTo(401);
    }

    @Test
    void echo_spoofedForwardedFor_proxyFixTrustsOneHop() {
        RawHttp.Response echo = RawHttp.request(app.address(), null, "POST", "/api/echo",
                Map.of("X-Forwarded-For", "203.0.113.9"), "abc".getBytes());

        assertThat(echo.status()).isEqualTo(200);
        // sha256("abc")
        assertThat(echo.bodyText())
                .contains("\"sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"")
                .contains("\"length\":3")
                .contains("\"remote_addr\":\"203.0.113.9\"")
                .contains("\"peer_addr\":\"127.0.0.1\"");
    }

    @Test
    void kill_runningApp_stopsListening() {
        FlaskApp second = FlaskApp.start();
        second.kill();

        assertThat(second.process().isAlive()).isFalse();
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> RawHttp.get(second.address(), null, "/healthz", Map.of()))
                .isInstanceOf(java.io.UncheckedIOException.class)
                .hasMessageContaining("Connection refused");
    }
}
