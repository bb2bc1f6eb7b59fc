package dev.sluice.store;

/**
 * A store with a circuit breaker in front of a remote server says whether it is open, for health
 * views (the dashboard's store health). Stores without a breaker do not implement it.
 */
public interface BreakerStatus {
  /** Whether the breaker is open now (calls fail fast until a probe succeeds). Must not block. */
  boolean circuitOpen();
}
