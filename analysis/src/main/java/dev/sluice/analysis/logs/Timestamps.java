package dev.sluice.analysis.logs;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * Timestamps of the supported formats as epoch nanoseconds. The common shapes (RFC 3339 UTC with
 * {@code Z}, nginx's {@code 10/Oct/2026:13:55:36 +0000}) are parsed by hand because a million lines
 * must read in seconds; anything else RFC 3339 goes through {@link OffsetDateTime#parse}.
 */
final class Timestamps {
  private static final String[] MONTHS = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
  };

  /** The day number (epoch days) of the last date parsed, so one day's lines reuse it. */
  private int cachedYear = -1;
  private int cachedMonth = -1;
  private int cachedDay = -1;
  private long cachedEpochDay;

  /** RFC 3339 ({@code 2026-12-05T17:20:00.123Z}, any fraction, {@code Z} or an offset). */
  long rfc3339(String text) throws MalformedLineException {
    int n = text.length();
    if (n >= 20 && text.charAt(4) == '-' && text.charAt(7) == '-' && (text.charAt(10) == 'T' || text.charAt(10) == 't')
        && text.charAt(13) == ':' && text.charAt(16) == ':' && (text.charAt(n - 1) == 'Z' || text.charAt(n - 1) == 'z')) {
      int year = digits(text, 0, 4);
      int month = digits(text, 5, 2);
      int day = digits(text, 8, 2);
      int hour = digits(text, 11, 2);
      int minute = digits(text, 14, 2);
      int second = digits(text, 17, 2);
      long fraction = 0;
      int end = n - 1;
      if (end > 19) {
        if (text.charAt(19) != '.' || end - 20 < 1 || end - 20 > 9) {
          return slow(text);
        }
        int frac = digits(text, 20, end - 20);
        if (frac < 0) {
          return slow(text);
        }
        fraction = frac;
        for (int i = end - 20; i < 9; i++) {
          fraction *= 10;
        }
      }
      if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0
          || minute > 59 || second < 0 || second > 60) {
        return slow(text);
      }
      return nanos(year, month, day, hour, minute, second, 0, text) + fraction;
    }
    return slow(text);
  }

  private static long slow(String text) throws MalformedLineException {
    try {
      OffsetDateTime t = OffsetDateTime.parse(text);
      return t.toEpochSecond() * 1_000_000_000L + t.getNano();
    } catch (DateTimeParseException e) {
      throw new MalformedLineException("time \"" + text + "\" is not an RFC 3339 timestamp (e.g. 2026-12-05T17:20:00.123Z)");
    }
  }

  /** Common log format: {@code 10/Oct/2026:13:55:36 +0000} (without the brackets). */
  long common(String text) throws MalformedLineException {
    if (text.length() != 26 || text.charAt(2) != '/' || text.charAt(6) != '/' || text.charAt(11) != ':'
        || text.charAt(14) != ':' || text.charAt(17) != ':' || text.charAt(20) != ' ') {
      throw new MalformedLineException("time \"" + text + "\" is not [dd/Mon/yyyy:HH:mm:ss +hhmm]");
    }
    int day = digits(text, 0, 2);
    int month = -1;
    for (int i = 0; i < 12; i++) {
      if (text.regionMatches(3, MONTHS[i], 0, 3)) {
        month = i + 1;
      }
    }
    int year = digits(text, 7, 4);
    int hour = digits(text, 12, 2);
    int minute = digits(text, 15, 2);
    int second = digits(text, 18, 2);
    char sign = text.charAt(21);
    int offH = digits(text, 22, 2);
    int offM = digits(text, 24, 2);
    if (day < 1 || day > 31 || month < 0 || year < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59
        || second < 0 || second > 60 || (sign != '+' && sign != '-') || offH < 0 || offM < 0) {
      throw new MalformedLineException("time \"" + text + "\" is not [dd/Mon/yyyy:HH:mm:ss +hhmm]");
    }
    int offsetSeconds = (sign == '-' ? -1 : 1) * (offH * 3600 + offM * 60);
    return nanos(year, month, day, hour, minute, second, offsetSeconds, text);
  }

  /**
   * A number of seconds since the epoch (with a fraction), or milliseconds/microseconds/nanoseconds
   * told apart by size (a 2026 time is about 1.8e9 s, 1.8e12 ms, 1.8e15 µs, 1.8e18 ns).
   */
  static long epochNumber(java.math.BigDecimal value, String text) throws MalformedLineException {
    if (value.signum() <= 0 || value.compareTo(java.math.BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
      throw new MalformedLineException("time " + text + " is not a positive epoch number");
    }
    // Exact decimal arithmetic: a double has too few digits for nanoseconds since 1970.
    int scale = value.compareTo(java.math.BigDecimal.valueOf(100_000_000_000L)) < 0 ? 9
        : value.compareTo(java.math.BigDecimal.valueOf(100_000_000_000_000L)) < 0 ? 6
        : value.compareTo(java.math.BigDecimal.valueOf(100_000_000_000_000_000L)) < 0 ? 3 : 0;
    return value.movePointRight(scale).setScale(0, java.math.RoundingMode.HALF_UP).longValueExact();
  }

  private long nanos(int year, int month, int day, int hour, int minute, int second, int offsetSeconds, String text)
      throws MalformedLineException {
    if (year != cachedYear || month != cachedMonth || day != cachedDay) {
      try {
        cachedEpochDay = LocalDate.of(year, month, day).toEpochDay();
      } catch (DateTimeException e) {
        throw new MalformedLineException("time \"" + text + "\" is not a date (" + e.getMessage() + ")");
      }
      cachedYear = year;
      cachedMonth = month;
      cachedDay = day;
    }
    long seconds = cachedEpochDay * 86_400L + hour * 3600L + minute * 60L + second - offsetSeconds;
    return seconds * 1_000_000_000L;
  }

  /** The decimal number of {@code length} digits at {@code start}, or -1 when one is not a digit. */
  private static int digits(String text, int start, int length) {
    int value = 0;
    for (int i = start; i < start + length; i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }
}
