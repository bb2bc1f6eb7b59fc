package dev.sluice.config;

import dev.sluice.match.EncodedSlashes;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code gateway:} section.
 *
 * @param listen where clients connect (default {@code 127.0.0.1:8080})
 * @param upstream the protected app, an {@code http://} or {@code https://} URL; {@code null} when
 *     only the decision API runs (a file without {@code gateway.upstream} but with {@code decision:})
 * @param admin the admin listener for metrics, health and admin API (default {@code 127.0.0.1:9090})
 * @param upstreamTimeout how long to wait for the upstream's response (default 30s, at most 24h)
 * @param maxInflight the most requests in flight to the upstream at once ({@code max_inflight});
 *     beyond it the gateway sheds by priority; {@link #NO_INFLIGHT_LIMIT} (0, the default) = no cap
 * @param adminToken the bearer token the admin API requires, read at load time from the
 *     environment variable named by {@code admin_token_env}; empty (the default) = the admin API
 *     needs no token. Never printed: {@link #toString()} redacts it
 * @param encodedSlashes what {@code %2F} in a request path means for matching ({@code
 *     encoded_slashes}, default {@link EncodedSlashes#DECODE}: a separator, as WSGI servers read it)
 * @param edge slow-client timeouts and connection caps ({@code header_timeout}, {@code
 *     body_timeout}, {@code max_connections}, {@code max_connections_per_ip})
 * @param adminAccess {@code admin_hosts} and {@code admin_insecure} (default {@link AdminAccess#DEFAULT})
 * @param tls {@code tls} and {@code upstream_tls} (default {@link TlsSettings#DEFAULT})
 */
public record GatewaySettings(
    InetSocketAddress listen,
    URI upstream,
    InetSocketAddress admin,
    Duration upstreamTimeout,
    int maxInflight,
    Optional<String> adminToken,
    EncodedSlashes encodedSlashes,
    EdgeSettings edge,
    AdminAccess adminAccess,
    TlsSettings tls) {

  /** Default {@code gateway.listen}. */
  public static final InetSocketAddress DEFAULT_LISTEN = new InetSocketAddress("127.0.0.1", 8080);
  /** Default {@code gateway.admin}. */
  public static final InetSocketAddress DEFAULT_ADMIN = new InetSocketAddress("127.0.0.1", 9090);
  /** Default {@code gateway.upstream_timeout}. */
  public static final Duration DEFAULT_UPSTREAM_TIMEOUT = Duration.ofSeconds(30);
  /** Longest {@code gateway.upstream_timeout}. */
  public static final Duration MAX_UPSTREAM_TIMEOUT = Duration.ofHours(24);
  /** {@link #maxInflight()} when {@code gateway.max_inflight} is not set: no global cap. */
  public static final int NO_INFLIGHT_LIMIT = 0;

  /**
   * Validates the settings.
   *
   * @throws IllegalArgumentException when the timeout is not positive or longer than 24h,
   *     {@code maxInflight} is negative, or the admin token is blank
   */
  public GatewaySettings {
    Objects.requireNonNull(listen, "listen");
    Objects.requireNonNull(admin, "admin");
    Objects.requireNonNull(upstreamTimeout, "upstreamTimeout");
    Objects.requireNonNull(adminToken, "adminToken");
    Objects.requireNonNull(encodedSlashes, "encodedSlashes");
    Objects.requireNonNull(edge, "edge");
    Objects.requireNonNull(adminAccess, "adminAccess");
    Objects.requireNonNull(tls, "tls");
    if (upstreamTimeout.isNegative() || upstreamTimeout.isZero() || upstreamTimeout.compareTo(MAX_UPSTREAM_TIMEOUT) > 0) {
      throw new IllegalArgumentException("upstream timeout must be positive and at most 24h, got "
          + dev.sluice.time.DurationText.format(upstreamTimeout));
    }
    if (maxInflight < 0) {
      throw new IllegalArgumentException("max_inflight must be at least 1 (or 0 for no cap), got " + maxInflight);
    }
    if (adminToken.isPresent() && adminToken.get().isBlank()) {
      throw new IllegalArgumentException("the admin token is blank; expected a secret token");
    }
  }

  /** Settings without TLS on either side. */
  public GatewaySettings(
      InetSocketAddress listen, URI upstream, InetSocketAddress admin, Duration upstreamTimeout, int maxInflight,
      Optional<String> adminToken, EncodedSlashes encodedSlashes, EdgeSettings edge, AdminAccess adminAccess) {
    this(listen, upstream, admin, upstreamTimeout, maxInflight, adminToken, encodedSlashes, edge, adminAccess,
        TlsSettings.DEFAULT);
  }

  /** Settings with every later section at its default. */
  public GatewaySettings(
      InetSocketAddress listen, URI upstream, InetSocketAddress admin, Duration upstreamTimeout, int maxInflight,
      Optional<String> adminToken) {
    this(listen, upstream, admin, upstreamTimeout, maxInflight, adminToken, EncodedSlashes.DECODE,
        EdgeSettings.defaults(), AdminAccess.DEFAULT, TlsSettings.DEFAULT);
  }

  /** Settings with the given {@code encoded_slashes} and defaults otherwise. */
  public GatewaySettings(
      InetSocketAddress listen, URI upstream, InetSocketAddress admin, Duration upstreamTimeout, int maxInflight,
      Optional<String> adminToken, EncodedSlashes encodedSlashes) {
    this(listen, upstream, admin, upstreamTimeout, maxInflight, adminToken, encodedSlashes,
        EdgeSettings.defaults(), AdminAccess.DEFAULT, TlsSettings.DEFAULT);
  }

  /** Settings with the given edge settings and defaults otherwise. */
  public GatewaySettings(
      InetSocketAddress listen, URI upstream, InetSocketAddress admin, Duration upstreamTimeout, int maxInflight,
      Optional<String> adminToken, EdgeSettings edge) {
    this(listen, upstream, admin, upstreamTimeout, maxInflight, adminToken, EncodedSlashes.DECODE, edge,
        AdminAccess.DEFAULT, TlsSettings.DEFAULT);
  }

  /** Settings with the given admin access rules and defaults otherwise. */
  public GatewaySettings(
      InetSocketAddress listen, URI upstream, InetSocketAddress admin, Duration upstreamTimeout, int maxInflight,
      Optional<String> adminToken, AdminAccess adminAccess) {
    this(listen, upstream, admin, upstreamTimeout, maxInflight, adminToken, EncodedSlashes.DECODE,
        EdgeSettings.defaults(), adminAccess, TlsSettings.DEFAULT);
  }

  /** Settings without abuse control: no in-flight cap, an admin API without a token. */
  public GatewaySettings(
      InetSocketAddress listen, URI upstream, InetSocketAddress admin, Duration upstreamTimeout) {
    this(listen, upstream, admin, upstreamTimeout, NO_INFLIGHT_LIMIT, Optional.empty());
  }

  /**
   * Loud warnings about an admin API without a token (one sentence each; empty when a token is
   * configured): on loopback any local process can use it; beyond loopback only
   * {@code admin_insecure: true} lets the file load at all. {@code check} and {@code serve}
   * print them on stderr.
   */
  public List<String> adminWarnings() {
    return AdminRules.warnings(this);
  }

  /** Whether {@code max_inflight} caps the requests in flight to the upstream. */
  public boolean limitsInflight() {
    return maxInflight != NO_INFLIGHT_LIMIT;
  }

  /** The settings with the admin token redacted, so logging a config never leaks it. */
  @Override
  public String toString() {
    return "GatewaySettings[listen=" + listen + ", upstream=" + upstream + ", admin=" + admin
        + ", upstreamTimeout=" + upstreamTimeout + ", maxInflight=" + maxInflight
        + ", adminToken=" + (adminToken.isPresent() ? "(set)" : "(none)")
        + ", encodedSlashes=" + encodedSlashes.configName() + ", edge=" + edge
        + ", adminAccess=" + adminAccess + ", tls=" + tls + "]";
  }
}
