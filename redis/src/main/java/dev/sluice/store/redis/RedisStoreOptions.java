package dev.sluice.store.redis;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How to reach Redis and how long to wait for it. Immutable; validated on creation.
 *
 * @param urls one {@code redis://} or {@code rediss://} (TLS) URL for a single node, or several for
 *     a Redis Cluster (seed nodes; the rest of the topology is discovered). Credentials go in the
 *     URL ({@code redis://user:password@host:6379/0}) or, better, the user in the URL and the
 *     password in {@link RedisSecurity#password()}
 * @param timeout how long one decision may take before it fails with a
 *     {@link dev.sluice.store.StoreException} (the request then gets the policy's {@code on_error})
 * @param probeInterval how long the circuit breaker stays open after a connection failure or
 *     timeout before one request is let through to probe Redis again
 * @param security the password from the environment and how {@code rediss://} servers are verified
 */
public record RedisStoreOptions(List<URI> urls, Duration timeout, Duration probeInterval, RedisSecurity security) {

  /** The circuit breaker's default half-open delay. */
  public static final Duration DEFAULT_PROBE_INTERVAL = Duration.ofSeconds(1);

  /** Options with {@link RedisSecurity#DEFAULT} (credentials, if any, in the URL). */
  public RedisStoreOptions(List<URI> urls, Duration timeout, Duration probeInterval) {
    this(urls, timeout, probeInterval, RedisSecurity.DEFAULT);
  }

  public RedisStoreOptions {
    Objects.requireNonNull(urls, "urls");
    Objects.requireNonNull(security, "security");
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(probeInterval, "probeInterval");
    urls = List.copyOf(urls);
    if (urls.isEmpty()) {
      throw new IllegalArgumentException(
          "the redis store needs at least one url, e.g. redis://127.0.0.1:6379, got none");
    }
    for (URI url : urls) {
      String scheme = url.getScheme();
      if (!"redis".equalsIgnoreCase(scheme) && !"rediss".equalsIgnoreCase(scheme)) {
        throw new IllegalArgumentException(
            "redis store url '" + RedisMessages.redact(url)
                + "' has scheme '" + scheme + "'; expected redis:// or rediss:// (TLS)");
      }
      if (url.getHost() == null) {
        throw new IllegalArgumentException(
            "redis store url '" + RedisMessages.redact(url)
                + "' has no host; expected e.g. redis://127.0.0.1:6379");
      }
      if (security.password().isPresent() && url.getRawUserInfo() != null && url.getRawUserInfo().contains(":")) {
        throw new IllegalArgumentException(
            "redis store url '" + RedisMessages.redact(url) + "' carries a password and one is also"
                + " given from the environment; expected only the user name in the url, e.g. rediss://sluice@host:6380");
      }
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("redis store timeout must be positive, got " + dev.sluice.time.DurationText.format(timeout));
    }
    if (probeInterval.isNegative() || probeInterval.isZero()) {
      throw new IllegalArgumentException(
          "redis store probe interval must be positive, got " + dev.sluice.time.DurationText.format(probeInterval));
    }
  }

  /** Options with the {@linkplain #DEFAULT_PROBE_INTERVAL default probe interval}. */
  public static RedisStoreOptions of(List<URI> urls, Duration timeout) {
    return new RedisStoreOptions(urls, timeout, DEFAULT_PROBE_INTERVAL);
  }

  /** These options with {@code security} (password from the environment, TLS verification). */
  public RedisStoreOptions withSecurity(RedisSecurity security) {
    return new RedisStoreOptions(urls, timeout, probeInterval, security);
  }

  /** Whether any URL is {@code rediss://} (TLS). */
  public boolean tls() {
    return urls.stream().anyMatch(u -> "rediss".equalsIgnoreCase(u.getScheme()));
  }

  /**
   * Whether these options name a Redis Cluster by listing several seed URLs. (A single URL of a
   * cluster node is detected when connecting.)
   */
  public boolean cluster() {
    return urls.size() > 1;
  }

  /** The options with every URL's password masked (safe for logs). */
  @Override
  public String toString() {
    boolean userOnly = security.password().isPresent();
    return "RedisStoreOptions[urls=" + urls.stream().map(u -> RedisMessages.redact(u, userOnly)).toList() + ", timeout="
        + timeout + ", probeInterval=" + probeInterval + ", security=" + security + "]";
  }
}
