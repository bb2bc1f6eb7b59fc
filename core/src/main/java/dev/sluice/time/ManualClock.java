package dev.sluice.time;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that moves only when told to; for deterministic tests of time-dependent logic
 * (the library's users can use it in their own tests too). Thread-safe.
 */
public final class ManualClock implements Clock {
  private final AtomicLong nanos;

  /** Starts at an arbitrary non-zero reading so code never relies on time starting at zero. */
  public ManualClock() {
    this(1_000_000_000_000L);
  }

  public ManualClock(long startNanos) {
    this.nanos = new AtomicLong(startNanos);
  }

  @Override
  public long nanoTime() {
    return nanos.get();
  }

  /** Moves the clock forward by {@code nanos} (must not be negative). */
  public void advance(long nanos) {
    if (nanos < 0) {
      throw new IllegalArgumentException("a clock never goes backwards, got advance(" + nanos + ")");
    }
    this.nanos.addAndGet(nanos);
  }

  public void advance(Duration duration) {
    advance(duration.toNanos());
  }
}
