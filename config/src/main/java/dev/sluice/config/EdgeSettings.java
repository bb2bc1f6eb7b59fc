package dev.sluice.config;

import dev.sluice.time.DurationText;
import java.time.Duration;
import java.util.Objects;

/**
 * How the gateway bounds what slow or numerous client connections can hold (SPEC §12): the
 * {@code gateway.header_timeout}, {@code body_timeout}, {@code max_connections} and {@code
 * max_connections_per_ip} fields.
 *
 * @param headerTimeout the whole request head (request line and headers) must arrive within this
 *     once its first byte did (a new connection's first head: once it opened); then {@code 408}
 *     and the connection is closed (default 10s)
 * @param bodyTimeout the longest pause between two reads of a request body the gateway is
 *     reading; then {@code 408} (or a close, once a response has started) (default 30s)
 * @param maxConnections client connections open at once, in total; beyond it new connections
 *     are closed at once (default 10000)
 * @param maxConnectionsPerIp client connections open at once from one TCP peer address; beyond
 *     it that address's new connections are closed at once (default 100)
 * @param proxyProtocol {@code gateway.proxy_protocol}: peers in {@code clients.trusted_proxies}
 *     must open each connection with a PROXY protocol v1 or v2 header, whose source address is
 *     then the peer; a PROXY header from any other peer closes the connection (default false)
 * @param upstreams every upstream when {@code gateway.upstream} is a list of two or more URLs, in
 *     the order written (requests are spread over them); empty when it is one URL, which is then
 *     {@link GatewaySettings#upstream()} alone. With a list, {@code GatewaySettings.upstream()} is
 *     its first entry.
 */
public record EdgeSettings(Duration headerTimeout, Duration bodyTimeout, int maxConnections, int maxConnectionsPerIp,
    boolean proxyProtocol, java.util.List<java.net.URI> upstreams) {

  /** Default {@code gateway.header_timeout}. */
  public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(10);
  /** Default {@code gateway.body_timeout}. */
  public static final Duration DEFAULT_BODY_TIMEOUT = Duration.ofSeconds(30);
  /** Default {@code gateway.max_connections}. */
  public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
  /** Default {@code gateway.max_connections_per_ip}. */
  public static final int DEFAULT_MAX_CONNECTIONS_PER_IP = 100;
  /** Longest {@code header_timeout} and {@code body_timeout}: beyond it the timeout protects nothing. */
  public static final Duration MAX_TIMEOUT = Duration.ofHours(1);
  /** Largest {@code max_connections}: well above what one process's file descriptors allow. */
  public static final int MAX_CONNECTIONS = 1_000_000;

  /**
   * Validates the settings.
   *
   * @throws IllegalArgumentException when a timeout is not positive or longer than {@link
   *     #MAX_TIMEOUT}, a cap is below 1 or above {@link #MAX_CONNECTIONS}, or the per-address cap
   *     exceeds the total
   */
  public EdgeSettings {
    Objects.requireNonNull(headerTimeout, "headerTimeout");
    Objects.requireNonNull(bodyTimeout, "bodyTimeout");
    upstreams = java.util.List.copyOf(upstreams);
    checkTimeout("header_timeout", headerTimeout);
    checkTimeout("body_timeout", bodyTimeout);
    if (maxConnections < 1 || maxConnections > MAX_CONNECTIONS) {
      throw new IllegalArgumentException(
          "max_connections must be from 1 to " + MAX_CONNECTIONS + ", got " + maxConnections);
    }
    if (maxConnectionsPerIp < 1 || maxConnectionsPerIp > maxConnections) {
      throw new IllegalArgumentException("max_connections_per_ip must be from 1 to max_connections ("
          + maxConnections + "), got " + maxConnectionsPerIp);
    }
  }

  /** Settings without PROXY protocol. */
  public EdgeSettings(Duration headerTimeout, Duration bodyTimeout, int maxConnections, int maxConnectionsPerIp) {
    this(headerTimeout, bodyTimeout, maxConnections, maxConnectionsPerIp, false, java.util.List.of());
  }

  /** These settings with {@code proxy_protocol} set to {@code enabled}. */
  public EdgeSettings withProxyProtocol(boolean enabled) {
    return new EdgeSettings(headerTimeout, bodyTimeout, maxConnections, maxConnectionsPerIp, enabled, upstreams);
  }

  /** These settings with {@code upstreams} as the list of several upstreams (empty: one). */
  public EdgeSettings withUpstreams(java.util.List<java.net.URI> several) {
    return new EdgeSettings(headerTimeout, bodyTimeout, maxConnections, maxConnectionsPerIp, proxyProtocol, several);
  }

  private static void checkTimeout(String name, Duration d) {
    if (d.isNegative() || d.isZero() || d.compareTo(MAX_TIMEOUT) > 0) {
      throw new IllegalArgumentException(name + " must be positive and at most "
          + DurationText.format(MAX_TIMEOUT) + ", got " + DurationText.format(d));
    }
  }

  /** The defaults: 10s head, 30s body pauses, 10000 connections, 100 per address. */
  public static EdgeSettings defaults() {
    return new EdgeSettings(DEFAULT_HEADER_TIMEOUT, DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
        DEFAULT_MAX_CONNECTIONS_PER_IP);
  }
}
