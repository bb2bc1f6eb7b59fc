package dev.sluice.analysis.tune;

/** A limit as the policy file writes it: {@code "N/minute"}, {@code "N/15 minutes"}, {@code "… burst B"}. */
public final class LimitText {
  private static final long SECOND = 1_000_000_000L;
  private static final long[] UNITS = {86_400 * SECOND, 3_600 * SECOND, 60 * SECOND, SECOND};
  private static final String[] NAMES = {"day", "hour", "minute", "second"};

  private LimitText() {}

  /** The text of N per period, with {@code burst B} when {@code burst} is positive. */
  public static String of(long quantity, long periodNanos, long burst) {
    String period = null;
    for (int i = 0; i < UNITS.length && period == null; i++) {
      if (periodNanos % UNITS[i] == 0) {
        long m = periodNanos / UNITS[i];
        period = m == 1 ? NAMES[i] : m + " " + NAMES[i] + "s";
      }
    }
    if (period == null) {
      period = "second"; // periods are whole seconds in the policy file
    }
    return quantity + "/" + period + (burst > 0 ? " burst " + burst : "");
  }
}
