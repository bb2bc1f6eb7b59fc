package dev.sluice.analysis.replay;

import dev.sluice.time.Clock;
import java.time.Instant;
import java.time.InstantSource;

/**
 * The replay's time: both the engine's monotonic {@link Clock} and its wall clock ({@link
 * InstantSource}, for bans) read the current log line's time. It never goes backwards: a line
 * older than the latest one (log writers interleave threads) is decided at the latest time, and
 * counted. Not thread-safe: replay decides one line at a time.
 */
public final class VirtualClock implements Clock, InstantSource {
  private long epochNanos;
  private long behind;

  /** @param epochNanos the starting time (nanoseconds since the epoch) */
  public VirtualClock(long epochNanos) {
    this.epochNanos = epochNanos;
  }

  /** Moves to {@code epochNanos}, or stays when that is earlier; returns the time now. */
  public long moveTo(long epochNanos) {
    if (epochNanos >= this.epochNanos) {
      this.epochNanos = epochNanos;
    } else {
      behind++;
    }
    return this.epochNanos;
  }

  /** How many {@link #moveTo} calls asked for an earlier time. */
  public long linesBehind() {
    return behind;
  }

  @Override
  public long nanoTime() {
    return epochNanos;
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochSecond(Math.floorDiv(epochNanos, 1_000_000_000L), Math.floorMod(epochNanos, 1_000_000_000L));
  }

  @Override
  public long millis() {
    return Math.floorDiv(epochNanos, 1_000_000L);
  }
}
