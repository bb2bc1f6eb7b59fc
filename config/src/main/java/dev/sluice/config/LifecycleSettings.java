package dev.sluice.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How a gateway stops and starts again (SPEC §9): the drain on {@code SIGTERM} and the memory
 * store's snapshot. None of these can change by a reload.
 *
 * @param drainGrace {@code gateway.drain_grace}: after {@code SIGTERM}, how long {@code /readyz}
 *     answers 503 while the gateway still serves, so a load balancer can take it out (default 5s;
 *     {@code 0s} = stop accepting at once)
 * @param shutdownTimeout {@code gateway.shutdown_timeout}: then how long requests in flight may
 *     take to finish before their connections are closed (default 30s)
 * @param snapshot {@code store.snapshot}: where the memory store is saved on shutdown and restored
 *     from at start; empty (the default) = no snapshot. Resolved against the policy file's folder
 */
public record LifecycleSettings(Duration drainGrace, Duration shutdownTimeout, Optional<Path> snapshot) {
  /** Default {@code gateway.drain_grace}. */
  public static final Duration DEFAULT_DRAIN_GRACE = Duration.ofSeconds(5);
  /** Default {@code gateway.shutdown_timeout}. */
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

  public LifecycleSettings {
    Objects.requireNonNull(drainGrace, "drainGrace");
    Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
    Objects.requireNonNull(snapshot, "snapshot");
    if (drainGrace.isNegative()) {
      throw new IllegalArgumentException("drain grace must not be negative, got " + drainGrace);
    }
    if (shutdownTimeout.isNegative() || shutdownTimeout.isZero()) {
      throw new IllegalArgumentException("shutdown timeout must be positive, got " + shutdownTimeout);
    }
  }

  /** The defaults: 5s grace, 30s to finish, no snapshot. */
  public static LifecycleSettings defaults() {
    return new LifecycleSettings(DEFAULT_DRAIN_GRACE, DEFAULT_SHUTDOWN_TIMEOUT, Optional.empty());
  }
}
