package dev.sluice.limit;

import java.util.Locale;

/**
 * The limit grammar of the policy file (SPEC §2):
 *
 * <pre>
 *   limit  = N sep [M] unit [ "burst" B ]
 *   sep    = "/" | "per"
 *   unit   = second | seconds | s | minute | minutes | m | hour | hours | h | day | days | d
 * </pre>
 *
 * e.g. {@code 100/minute}, {@code 5 per second}, {@code 10/15 minutes}, {@code 10/s burst 50}.
 * N, M and B are positive decimal integers (no sign, no fraction). Bounds, so that every limit
 * parsed is one the engine decides exactly on every store: the text is at most {@link
 * Limit#MAX_TEXT_LENGTH} characters; the period {@code M × unit} at most 104 days; at most one
 * token a microsecond ({@code N ≤ period / 1µs}); and the bucket {@code B × period / N} at most
 * {@link Limit#MAX_CAPACITY_NANOS} ns (104 days). Each violation is a positioned error naming
 * the bound.
 * Whitespace is free between tokens (but required before {@code burst}); keywords and units are
 * case-insensitive. The parsed {@link Limit#text()} is the input without surrounding whitespace.
 *
 * <p>Stateless and thread-safe.
 */
public final class LimitParser {

  private LimitParser() {}

  /**
   * Parses one limit.
   *
   * @param text the limit as written in the policy file
   * @return the limit, its burst defaulting to N
   * @throws LimitSyntaxException when {@code text} is null or does not follow the grammar; the
   *     message names the offending token and the column points at it
   */
  public static Limit parse(String text) {
    if (text == null) {
      throw LimitMessages.missing();
    }
    if (text.length() > Limit.MAX_TEXT_LENGTH) {
      throw LimitMessages.tooLong(text);
    }
    return new Parser(text).limit();
  }

  /**
   * Writes a limit in canonical form ({@code N/unit}, {@code N/M units}, then {@code burst B} when
   * the burst differs from N) using the largest unit that divides the period;
   * {@code parse(format(limit))} has the same quantity, period and burst.
   *
   * @throws IllegalArgumentException when the period is not a whole number of seconds
   */
  public static String format(Limit limit) {
    if (limit.periodNanos() % Unit.SECOND.nanos != 0) {
      throw LimitMessages.notFormattable(limit);
    }
    return format(limit.quantity(), limit.periodNanos(), limit.burst());
  }

  /** {@link #format(Limit)} of the parts; the period must be a whole number of seconds. */
  static String format(long quantity, long periodNanos, long burst) {
    Unit unit = Unit.SECOND;
    for (Unit u : Unit.LARGEST_FIRST) {
      if (periodNanos % u.nanos == 0) {
        unit = u;
        break;
      }
    }
    long multiplier = periodNanos / unit.nanos;
    StringBuilder out = new StringBuilder().append(quantity).append('/');
    if (multiplier == 1) {
      out.append(unit.singular);
    } else {
      out.append(multiplier).append(' ').append(unit.singular).append('s');
    }
    if (burst != quantity) {
      out.append(" burst ").append(burst);
    }
    return out.toString();
  }

  enum Unit {
    SECOND("second", 1_000_000_000L),
    MINUTE("minute", 60_000_000_000L),
    HOUR("hour", 3_600_000_000_000L),
    DAY("day", 86_400_000_000_000L);

    static final Unit[] LARGEST_FIRST = {DAY, HOUR, MINUTE, SECOND};

    final String singular;
    final long nanos;

    Unit(String singular, long nanos) {
      this.singular = singular;
      this.nanos = nanos;
    }

    /** The unit for a spelling (singular, plural or one letter, any case), or null. */
    static Unit lookup(String word) {
      String w = word.toLowerCase(Locale.ROOT);
      for (Unit u : values()) {
        if (w.equals(u.singular) || w.equals(u.singular + "s") || w.equals(u.singular.substring(0, 1))) {
          return u;
        }
      }
      return null;
    }
  }

  /** A hand-written scanner: every error knows its exact column. */
  private static final class Parser {
    private static final String QUANTITY = "the quantity";
    private static final String MULTIPLIER = "the period multiplier";
    private static final String BURST = "the burst";

    private final String text;
    private final int length;
    private int pos;

    Parser(String text) {
      this.text = text;
      this.length = text.length();
    }

    Limit limit() {
      skipWhitespace();
      if (pos == length) {
        throw LimitMessages.empty(text, pos);
      }
      int quantityStart = pos;
      long quantity = number(QUANTITY);
      skipWhitespace();
      if (pos < length && text.charAt(pos) == '/') {
        pos++;
      } else if (token(pos).equalsIgnoreCase("per")) {
        pos += 3;
      } else {
        throw LimitMessages.expectedSeparator(text, pos, token(pos));
      }
      skipWhitespace();

      int periodStart = pos;
      long multiplier = 1;
      if (pos < length && startsNumber(pos)) {
        multiplier = number(MULTIPLIER);
        skipWhitespace();
      }
      int unitStart = pos;
      while (pos < length && isAsciiLetter(text.charAt(pos))) {
        pos++;
      }
      String unitWord = text.substring(unitStart, pos);
      if (unitWord.isEmpty()) {
        throw LimitMessages.missingUnit(text, unitStart, token(unitStart));
      }
      Unit unit = Unit.lookup(unitWord);
      if (unit == null) {
        throw LimitMessages.unknownUnit(text, unitStart, unitWord);
      }
      long periodNanos;
      try {
        periodNanos = Math.multiplyExact(multiplier, unit.nanos);
      } catch (ArithmeticException overflow) {
        throw LimitMessages.periodTooLong(text, periodStart, text.substring(periodStart, pos));
      }
      if (periodNanos > Limit.MAX_PERIOD_NANOS) {
        throw LimitMessages.periodTooLong(text, periodStart, text.substring(periodStart, pos));
      }
      long maxQuantity = periodNanos / Limit.MIN_INTERVAL_NANOS;
      if (quantity > maxQuantity) {
        throw LimitMessages.rateTooHigh(
            text, quantityStart, quantity, text.substring(periodStart, pos).strip(), maxQuantity);
      }

      long burst = quantity;
      int burstStart = -1;
      int unitEnd = pos;
      skipWhitespace();
      if (pos < length) {
        if (pos == unitEnd || !token(pos).equalsIgnoreCase("burst")) {
          throw LimitMessages.trailingAfterUnit(text, pos, token(pos));
        }
        pos += 5;
        skipWhitespace();
        burstStart = pos;
        burst = number(BURST);
        skipWhitespace();
        if (pos < length) {
          throw LimitMessages.trailingAfterBurst(text, pos, token(pos));
        }
      }
      Limit limit = new Limit(quantity, periodNanos, burst, text.strip());
      long interval = limit.emissionIntervalNanos();
      if (burst > Limit.MAX_CAPACITY_NANOS / interval) {
        // Without a burst the bucket is N × period / N, within the period bound: only B gets here.
        throw LimitMessages.capacityTooLarge(text, burstStart < 0 ? quantityStart : burstStart, burst, interval);
      }
      return limit;
    }

    /** Reads a positive decimal integer at {@code pos}, or throws naming {@code role}. */
    private long number(String role) {
      int start = pos;
      if (pos < length && (text.charAt(pos) == '-' || text.charAt(pos) == '+')) {
        int end = digitsEnd(pos + 1);
        if (end > pos + 1) {
          String signed = text.substring(start, end);
          throw text.charAt(pos) == '-'
              ? LimitMessages.notPositive(text, start, role, signed)
              : LimitMessages.signed(text, start, role, signed);
        }
      }
      int end = digitsEnd(pos);
      if (end == pos) {
        throw LimitMessages.expectedNumber(text, start, role, token(pos));
      }
      if (end + 1 < length
          && (text.charAt(end) == '.' || text.charAt(end) == ',')
          && isDigit(text.charAt(end + 1))) {
        throw LimitMessages.notWhole(text, start, role, text.substring(start, digitsEnd(end + 1)));
      }
      String digits = text.substring(start, end);
      long value = 0;
      for (int i = start; i < end; i++) {
        int digit = text.charAt(i) - '0';
        if (value > (Long.MAX_VALUE - digit) / 10) {
          throw LimitMessages.tooLarge(text, start, role, digits);
        }
        value = value * 10 + digit;
      }
      if (value == 0) {
        throw LimitMessages.notPositive(text, start, role, digits);
      }
      pos = end;
      return value;
    }

    private boolean startsNumber(int at) {
      char c = text.charAt(at);
      return isDigit(c) || ((c == '-' || c == '+') && at + 1 < length && isDigit(text.charAt(at + 1)));
    }

    private int digitsEnd(int from) {
      int i = from;
      while (i < length && isDigit(text.charAt(i))) {
        i++;
      }
      return i;
    }

    /** The token shown in messages: "/" alone, else the run up to whitespace or "/"; "" at the end. */
    private String token(int from) {
      if (from >= length) {
        return "";
      }
      if (text.charAt(from) == '/') {
        return "/";
      }
      int i = from;
      while (i < length && !Character.isWhitespace(text.charAt(i)) && text.charAt(i) != '/') {
        i++;
      }
      return text.substring(from, i);
    }

    private void skipWhitespace() {
      while (pos < length && Character.isWhitespace(text.charAt(pos))) {
        pos++;
      }
    }

    private static boolean isDigit(char c) {
      return c >= '0' && c <= '9';
    }

    private static boolean isAsciiLetter(char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
  }
}
