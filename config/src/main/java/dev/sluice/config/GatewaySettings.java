package dev.sluice.config;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * The {@code gateway:} section.
 *
 * @param listen where clients connect (default {@code 127.0.0.1:8080})
 * @param upstream the protected app, an {@code http://} or {@code https://} URL (required)
 * @param admin the admin listener for metrics, health and admin API (default {@code 127.0.0.1:9090})
 * @param upstreamTimeout how long to wait for the upstream's response (default 30s)
 */
public record GatewaySettings(
    InetSocketAddress listen, URI upstream, InetSocketAddress admin, Duration upstreamTimeout) {

  /** Default {@code gateway.listen}. */
  public static final InetSocketAddress DEFAULT_LISTEN = new InetSocketAddress("127.0.0.1", 8080);
  /** Default {@code gateway.admin}. */
  public static final InetSocketAddress DEFAULT_ADMIN = new InetSocketAddress("127.0.0.1", 9090);
  /** Default {@code gateway.upstream_timeout}. */
  public static final Duration DEFAULT_UPSTREAM_TIMEOUT = Duration.ofSeconds(30);

  public GatewaySettings {
    Objects.requireNonNull(listen, "listen");
    Objects.requireNonNull(upstream, "upstream");
    Objects.requireNonNull(admin, "admin");
    Objects.requireNonNull(upstreamTimeout, "upstreamTimeout");
    if (upstreamTimeout.isNegative() || upstreamTimeout.isZero()) {
      throw new IllegalArgumentException("upstream timeout must be positive, got " + upstreamTimeout);
    }
  }
}
