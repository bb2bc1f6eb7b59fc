package dev.sluice.store.redis;

import dev.sluice.time.Clock;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Stops asking a failing Redis for a moment, so a dead or hung server costs at most one timeout per
 * probe interval instead of one per request (SPEC §3).
 *
 * <p>Design: two observable states in one immutable snapshot swapped by CAS. CLOSED lets every
 * call through. OPEN rejects every call until {@code retryAtNanos}; the first caller after that
 * instant wins the CAS and becomes the single probe, which pushes {@code retryAtNanos} one interval
 * further so every other caller keeps failing fast while the probe is in flight (this is the
 * "half-open" state; if the probe's completion were ever lost, the next interval simply elects
 * another probe, so the breaker can never wedge). Any success closes the breaker; a failure
 * while CLOSED or on the probe opens it for one interval. Failures of calls that were already in
 * flight when it opened do not extend the interval, so a burst of stragglers costs nothing extra.
 *
 * <p>Thread-safe and lock-free; the CLOSED fast path is one volatile read.
 */
final class CircuitBreaker {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(CircuitBreaker.class);

  /** What a caller may do. */
  enum Permit {
    /** The breaker is closed: go ahead. */
    CALL,
    /** The breaker was open and this caller is the one probe. */
    PROBE,
    /** The breaker is open: fail fast without asking Redis. */
    REJECT
  }

  private record Snapshot(boolean open, long retryAtNanos, String cause) {}

  private static final Snapshot CLOSED = new Snapshot(false, 0, null);

  private final Clock clock;
  private final long intervalNanos;
  private final AtomicReference<Snapshot> state = new AtomicReference<>(CLOSED);

  CircuitBreaker(Clock clock, long intervalNanos) {
    this.clock = clock;
    this.intervalNanos = intervalNanos;
  }

  Permit acquire() {
    while (true) {
      Snapshot s = state.get();
      if (!s.open()) {
        return Permit.CALL;
      }
      long now = clock.nanoTime();
      if (now - s.retryAtNanos() < 0) {
        return Permit.REJECT;
      }
      if (state.compareAndSet(s, new Snapshot(true, now + intervalNanos, s.cause()))) {
        return Permit.PROBE;
      }
    }
  }

  void onSuccess() {
    Snapshot s = state.get();
    if (s.open() && state.compareAndSet(s, CLOSED)) {
      // One line per state change (issue 16): the outage's end, matching the one line at its start.
      log.warn("Redis store is reachable again: circuit breaker closed, decisions use the store");
    }
  }

  void onFailure(Permit permit, String cause) {
    while (true) {
      Snapshot s = state.get();
      if (s.open() && permit != Permit.PROBE) {
        return; // a straggler from before the breaker opened: the interval already runs
      }
      Snapshot open = new Snapshot(true, clock.nanoTime() + intervalNanos, cause);
      if (state.compareAndSet(s, open)) {
        if (!s.open()) {
          // Failed probes while open are not state changes: a long outage stays one line.
          log.warn("Redis store is failing ({}): circuit breaker open, store.on_error applies; probing every {} ms",
              cause, intervalNanos / 1_000_000);
        }
        return;
      }
    }
  }

  boolean isOpen() {
    return state.get().open();
  }

  /** Nanoseconds until the next probe may run (0 when closed or due). */
  long nanosUntilProbe() {
    Snapshot s = state.get();
    return s.open() ? Math.max(0, s.retryAtNanos() - clock.nanoTime()) : 0;
  }

  /** Why the breaker opened, or null when closed. */
  String cause() {
    return state.get().cause();
  }
}
