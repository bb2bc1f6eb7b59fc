package dev.sluice.time;

/**
 * A source of monotonic time in nanoseconds, injected wherever a decision depends on time
 * (in the spirit of Caffeine's {@code Ticker}). Only differences between readings are meaningful.
 *
 * <p>Implementations must be thread-safe and never go backwards.
 */
@FunctionalInterface
public interface Clock {

  /** Current reading in nanoseconds; only differences between two readings have meaning. */
  long nanoTime();

  /** The JVM's monotonic clock ({@link System#nanoTime()}). */
  static Clock system() {
    return System::nanoTime;
  }
}
