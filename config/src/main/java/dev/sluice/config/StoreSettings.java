package dev.sluice.config;

import dev.sluice.policy.OnError;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The {@code store:} section.
 *
 * @param type memory (default) or redis
 * @param urls the Redis URLs ({@code redis://}, {@code rediss://}); several for a cluster; empty for
 *     memory
 * @param onError what a decision does when the store fails (default allow = fail open)
 * @param timeout how long one store operation may take (default 50ms)
 * @param maxKeys the memory store's bound on buckets (default 1,000,000)
 * @param access Redis only: the password from {@code password_env} and the {@code tls} settings
 */
public record StoreSettings(
    StoreType type, List<URI> urls, OnError onError, Duration timeout, long maxKeys, RedisAccess access) {

  /** Default {@code store.timeout}. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(50);
  /** Longest {@code store.timeout}: a store slower than this is down, whatever it says. */
  public static final Duration MAX_TIMEOUT = Duration.ofMinutes(1);
  /** Default {@code store.max_keys}; the same as the memory store's own default. */
  public static final long DEFAULT_MAX_KEYS = 1_000_000L;

  /** Settings without a password from the environment, verified against the system trust store. */
  public StoreSettings(StoreType type, List<URI> urls, OnError onError, Duration timeout, long maxKeys) {
    this(type, urls, onError, timeout, maxKeys, RedisAccess.DEFAULT);
  }

  public StoreSettings {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(access, "access");
    urls = List.copyOf(urls);
    Objects.requireNonNull(onError, "onError");
    Objects.requireNonNull(timeout, "timeout");
    if (type == StoreType.REDIS && urls.isEmpty()) {
      throw new IllegalArgumentException("a redis store needs at least one url");
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("store timeout must be positive, got " + dev.sluice.time.DurationText.format(timeout));
    }
    if (maxKeys <= 0) {
      throw new IllegalArgumentException("store max_keys must be positive, got " + maxKeys);
    }
  }

  /** The defaults: memory store, fail open, 50ms timeout, 1,000,000 keys. */
  public static StoreSettings defaults() {
    return new StoreSettings(StoreType.MEMORY, List.of(), OnError.ALLOW, DEFAULT_TIMEOUT, DEFAULT_MAX_KEYS);
  }
}
