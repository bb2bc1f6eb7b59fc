package dev.sluice.request;

/**
 * The RFC 9110 {@code token} syntax, which method names, header field names and cookie names share.
 * One definition so every validator in the engine agrees on what a valid name is.
 */
public final class HttpToken {
  private static final String DELIMITER_FREE_SYMBOLS = "!#$%&'*+-.^_`|~";

  private HttpToken() {}

  /** Whether {@code s} is a non-empty RFC 9110 token ({@code 1*tchar}). */
  public static boolean isToken(String s) {
    if (s == null || s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || DELIMITER_FREE_SYMBOLS.indexOf(c) >= 0;
      if (!tchar) {
        return false;
      }
    }
    return true;
  }
}
