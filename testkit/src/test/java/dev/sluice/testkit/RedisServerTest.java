package dev.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;

class RedisServerTest {

    @Test
    void restart_afterKeysWritten_comesBackEmptyOnSamePort() {
        try (RedisServer redis = RedisServer.start()) {
            int port = redis.port();
            redis.call("SET", "k", "v");
            assertThat(redis.call("GET", "k")).isEqualTo("v");
            assertThat(redis.dbSize()).isEqualTo(1);

            redis.restart();

            assertThat(redis.port()).isEqualTo(port);
            assertThat(redis.call("PING")).isEqualTo("PONG");
            assertThat(redis.dbSize()).isZero();
        }
    }

    @Test
    void pause_thenResume_stopsAnsweringThenAnswersAgain() {
        try (RedisServer redis = RedisServer.start()) {
            redis.pause();
            try {
                // Connections are still accepted by the kernel, but nobody replies.
                assertThatThrownBy(() -> callWithShortTimeout(redis))
                        .isInstanceOf(java.net.SocketTimeoutException.class);
            } finally {
                redis.resume();
            }
            assertThat(redis.call("PING")).isEqualTo("PONG");
        }
    }

    @Test
    void kill_runningServer_refusesConnections() {
        RedisServer redis = RedisServer.start();
        redis.kill();

        assertThat(redis.isRunning()).isFalse();
        assertThatThrownBy(() -> redis.call("PING")).isInstanceOf(UncheckedIOException.class);
    }

    private static void callWithShortTimeout(RedisServer redis) throws Exception {
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(redis.address(), 1000);
            socket.setSoTimeout(300);
            socket.getOutputStream().write("PING\r\n".getBytes());
            socket.getInputStream().read();
        }
    }
}
