package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RedisStoreOptionsTest {

  private static final Duration TIMEOUT = Duration.ofMillis(50);

  @Test
  void of_oneUrl_isSingleNodeWithDefaultProbeInterval() {
    RedisStoreOptions options = RedisStoreOptions.of(List.of(URI.create("rediss://u:p@redis.example:6380/2")), TIMEOUT);

    assertThat(options.cluster()).isFalse();
    assertThat(options.probeInterval()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void of_severalUrls_isCluster() {
    assertThat(RedisStoreOptions.of(List.of(URI.create("redis://a:7000"), URI.create("redis://b:7000")), TIMEOUT)
        .cluster()).isTrue();
  }

  @Test
  void new_httpUrl_isRejectedWithoutShowingThePassword() {
    assertThatThrownBy(() -> RedisStoreOptions.of(List.of(URI.create("http://admin:s3cret@host:6379")), TIMEOUT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("redis store url 'http://admin:***@host:6379' has scheme 'http'; expected redis:// or rediss:// (TLS)");
  }

  @Test
  void new_noUrls_isRejected() {
    assertThatThrownBy(() -> RedisStoreOptions.of(List.of(), TIMEOUT))
        .hasMessage("the redis store needs at least one url, e.g. redis://127.0.0.1:6379, got none");
  }

  @Test
  void new_zeroTimeoutOrProbe_isRejected() {
    List<URI> url = List.of(URI.create("redis://127.0.0.1:6379"));
    assertThatThrownBy(() -> RedisStoreOptions.of(url, Duration.ZERO))
        .hasMessage("redis store timeout must be positive, got 0s");
    assertThatThrownBy(() -> new RedisStoreOptions(url, TIMEOUT, Duration.ofMillis(-1)))
        .hasMessage("redis store probe interval must be positive, got -1ms");
  }
}
