package dev.sluice.time;

import java.time.Duration;

/**
 * Durations written the way the policy file writes them ({@code 50ms}, {@code 30s}, {@code 15m},
 * {@code 24h}, {@code 7d}), for every message a user reads: a message about a ban of fifteen
 * minutes says {@code 15m}, never {@code PT15M} or {@code PT0.25H}.
 *
 * <p>The largest unit that divides the duration exactly is used; days only beyond 48 hours
 * (people write {@code 24h}, not {@code 1d}). Sub-millisecond durations fall back to {@code ns}
 * (the file cannot write them, but the engine may compute them). Stateless and thread-safe.
 */
public final class DurationText {
  private static final long NANOS_PER_MILLI = 1_000_000L;
  private static final long MILLIS_PER_DAY = 86_400_000L;
  private static final long[] SIZES = {3_600_000L, 60_000L, 1_000L};
  private static final String[] UNITS = {"h", "m", "s"};

  private DurationText() {}

  /**
   * The duration in the policy file's grammar; {@code null} gives {@code "null"}, a negative
   * duration gets a leading {@code -}.
   */
  public static String format(Duration d) {
    if (d == null) {
      return "null";
    }
    if (d.isNegative()) {
      return "-" + format(d.negated());
    }
    if (d.getNano() % NANOS_PER_MILLI != 0) {
      // Only reachable below the file's grammar (ms); nanoseconds keep the value exact.
      try {
        return d.toNanos() + "ns";
      } catch (ArithmeticException tooLong) {
        return d.getSeconds() + "s";
      }
    }
    long ms;
    try {
      ms = d.toMillis();
    } catch (ArithmeticException tooLong) {
      return d.getSeconds() + "s";
    }
    if (ms == 0) {
      return "0s";
    }
    if (ms > 2 * MILLIS_PER_DAY && ms % MILLIS_PER_DAY == 0) {
      return ms / MILLIS_PER_DAY + "d";
    }
    for (int i = 0; i < SIZES.length; i++) {
      if (ms % SIZES[i] == 0) {
        return ms / SIZES[i] + UNITS[i];
      }
    }
    return ms + "ms";
  }
}
