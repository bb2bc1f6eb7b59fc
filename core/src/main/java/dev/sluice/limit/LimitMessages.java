package dev.sluice.limit;

import dev.sluice.time.DurationText;

/**
 * Every message of the {@code limit} package, in one place (like Bucket4j's {@code
 * BucketExceptions}) so they stay consistent and tests can assert their exact text.
 */
final class LimitMessages {
  private static final long MAX_DAYS = Limit.MAX_PERIOD_NANOS / 86_400_000_000_000L;
  static final String UNITS = "second, minute, hour or day (or s, m, h, d)";
  static final String GRAMMAR =
      "expected N/unit, N per unit or N/M units, optionally followed by burst B"
          + " (e.g. \"100/minute\", \"10/15 minutes burst 20\")";
  static final String END = "the end of the text";

  private LimitMessages() {}

  private static LimitSyntaxException syntax(String text, int column, String detail) {
    return new LimitSyntaxException("invalid limit " + quoted(text) + ": " + detail, column);
  }

  /** The limit text in quotes; an overlong one is cut (a message must not repeat megabytes). */
  static String quoted(String text) {
    if (text.length() <= Limit.MAX_TEXT_LENGTH) {
      return "\"" + text + "\"";
    }
    return "\"" + text.substring(0, 20) + "...\" (" + text.length() + " characters)";
  }

  static LimitSyntaxException tooLong(String text) {
    return syntax(text, Limit.MAX_TEXT_LENGTH, "the limit is " + text.length() + " characters long, at most "
        + Limit.MAX_TEXT_LENGTH + "; " + GRAMMAR);
  }

  static LimitSyntaxException rateTooHigh(String text, int column, long quantity, String period, long max) {
    return syntax(text, column, rateProblem(quantity, period, max));
  }

  private static String rateProblem(long quantity, String period, long max) {
    return "the quantity " + quantity + " is too large for a period of " + period
        + ": at most one token a microsecond, so at most " + max;
  }

  static LimitSyntaxException capacityTooLarge(String text, int column, long burst, long intervalNanos) {
    return syntax(text, column, capacityProblem(burst, intervalNanos));
  }

  private static String capacityProblem(long burst, long intervalNanos) {
    long maxBurst = Limit.MAX_CAPACITY_NANOS / intervalNanos;
    String refill = capacityText(burst, intervalNanos);
    return "the burst " + burst + " is too large: a bucket of " + burst + " tokens takes " + refill
        + " to refill, at most 2^53 ns (about " + MAX_DAYS + " days); expected a burst of at most " + maxBurst;
  }

  private static String capacityText(long burst, long intervalNanos) {
    long high = Math.multiplyHigh(burst, intervalNanos);
    long nanos = burst * intervalNanos;
    if (high != 0 || nanos < 0) {
      return "more than 292 years";
    }
    return DurationText.format(java.time.Duration.ofNanos(nanos));
  }

  /** See {@link Limit#boundsProblem()}; {@code null} when within bounds. */
  static String boundsProblem(Limit limit) {
    if (limit.periodNanos() > Limit.MAX_PERIOD_NANOS) {
      return "the period " + DurationText.format(limit.period()) + " is too long, at most " + MAX_DAYS + " days";
    }
    long maxQuantity = limit.periodNanos() / Limit.MIN_INTERVAL_NANOS;
    if (limit.quantity() > maxQuantity) {
      return rateProblem(limit.quantity(), DurationText.format(limit.period()), maxQuantity);
    }
    long interval = limit.emissionIntervalNanos();
    if (limit.burst() > Limit.MAX_CAPACITY_NANOS / interval) {
      return capacityProblem(limit.burst(), interval);
    }
    return null;
  }

  /** How a token is quoted in a message: {@code "abc"}, or "the end of the text". */
  static String got(String token) {
    return token.isEmpty() ? END : "\"" + token + "\"";
  }

  static LimitSyntaxException missing() {
    return new LimitSyntaxException("invalid limit: no value, " + GRAMMAR, 0);
  }

  static LimitSyntaxException empty(String text, int column) {
    return syntax(text, column, "the limit is empty, " + GRAMMAR);
  }

  static LimitSyntaxException expectedNumber(String text, int column, String role, String token) {
    return syntax(text, column, "expected a positive integer for " + role + ", got " + got(token));
  }

  static LimitSyntaxException notPositive(String text, int column, String role, String token) {
    return syntax(text, column, role + " must be a positive integer, got " + token);
  }

  static LimitSyntaxException signed(String text, int column, String role, String token) {
    return syntax(text, column, role + " must be written without a sign, got " + token);
  }

  static LimitSyntaxException notWhole(String text, int column, String role, String token) {
    return syntax(text, column, role + " must be a whole number, got " + token);
  }

  static LimitSyntaxException tooLarge(String text, int column, String role, String digits) {
    return syntax(text, column, role + " " + digits + " is too large, at most " + Long.MAX_VALUE);
  }

  static LimitSyntaxException expectedSeparator(String text, int column, String token) {
    return syntax(text, column, "expected \"/\" or \"per\" after the quantity, got " + got(token));
  }

  static LimitSyntaxException missingUnit(String text, int column, String token) {
    return syntax(text, column, "missing unit, expected " + UNITS + ", got " + got(token));
  }

  static LimitSyntaxException unknownUnit(String text, int column, String unit) {
    return syntax(text, column, "unknown unit \"" + unit + "\", expected " + UNITS);
  }

  static LimitSyntaxException periodTooLong(String text, int column, String period) {
    return syntax(text, column, "the period \"" + period + "\" is too long, at most " + MAX_DAYS + " days");
  }

  static LimitSyntaxException trailingAfterUnit(String text, int column, String token) {
    return syntax(
        text, column, "unexpected " + got(token) + " after the unit, expected \"burst B\" or " + END);
  }

  static LimitSyntaxException trailingAfterBurst(String text, int column, String token) {
    return syntax(text, column, "unexpected " + got(token) + " after the burst, expected " + END);
  }

  // Limit's own invariants (violated only by code, never by parsed text).

  static IllegalArgumentException quantityNotPositive(long quantity) {
    return new IllegalArgumentException("limit quantity must be positive, got " + quantity);
  }

  static IllegalArgumentException periodNotPositive(long periodNanos) {
    return new IllegalArgumentException("limit period must be positive, got " + periodNanos + "ns");
  }

  static IllegalArgumentException burstNotPositive(long burst) {
    return new IllegalArgumentException("limit burst must be positive, got " + burst);
  }

  static IllegalArgumentException notFormattable(Limit limit) {
    return new IllegalArgumentException(
        "limit \"" + limit.text() + "\" cannot be written in the limit grammar: its period of "
            + limit.periodNanos() + "ns is not a whole number of seconds");
  }
}
