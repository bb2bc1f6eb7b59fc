package dev.sluice.policy;

/**
 * Upstream response statuses a {@code count:} policy counts: one status ({@code 401}) or a class
 * ({@code 4xx} = 400..499). Immutable.
 *
 * @param from the lowest status matched, 100..599
 * @param to the highest status matched, {@code from}..599
 */
public record StatusRange(int from, int to) {

  /**
   * Validates the range.
   *
   * @throws IllegalArgumentException when a bound is outside 100..599 or {@code to < from}
   */
  public StatusRange {
    if (from < 100 || to > 599 || to < from) {
      throw new IllegalArgumentException(PolicyMessages.badStatusRange(from, to));
    }
  }

  /** Exactly {@code status}. @throws IllegalArgumentException when outside 100..599 */
  public static StatusRange of(int status) {
    if (status < 100 || status > 599) {
      throw new IllegalArgumentException(PolicyMessages.badStatus(String.valueOf(status)));
    }
    return new StatusRange(status, status);
  }

  /**
   * Parses {@code 401} (a status, 100..599) or {@code 4xx} (a class, {@code 1xx}..{@code 5xx};
   * {@code X} accepted too).
   *
   * @throws IllegalArgumentException naming the text and the expected forms
   */
  public static StatusRange parse(String text) {
    if (text != null && text.length() == 3) {
      char first = text.charAt(0);
      if (first >= '1' && first <= '5') {
        String rest = text.substring(1);
        if (rest.equalsIgnoreCase("xx")) {
          int base = (first - '0') * 100;
          return new StatusRange(base, base + 99);
        }
        if (Character.isDigit(rest.charAt(0)) && Character.isDigit(rest.charAt(1))) {
          int status = Integer.parseInt(text);
          return new StatusRange(status, status);
        }
      }
    }
    throw new IllegalArgumentException(PolicyMessages.badStatus(text));
  }

  /** Whether {@code status} is in the range. */
  public boolean matches(int status) {
    return status >= from && status <= to;
  }

  /** As written in a policy file: {@code 401} or {@code 4xx}. */
  @Override
  public String toString() {
    if (from == to) {
      return String.valueOf(from);
    }
    if (from % 100 == 0 && to == from + 99) {
      return (from / 100) + "xx";
    }
    return from + "-" + to;
  }
}
