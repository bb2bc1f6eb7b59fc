package dev.sluice.identity.internal;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, strict JSON (RFC 8259) parser for JWT headers, claims and JWKS documents, because the
 * core may not depend on a JSON library.
 *
 * <p>Design: it reads untrusted input (token claims), so it is strict and bounded rather than
 * lenient. It rejects duplicate object keys (two parsers reading different values for the same key
 * is a known token-confusion trick), unpaired surrogate escapes, control characters in strings,
 * leading zeros, trailing content, and nesting deeper than {@link #MAX_DEPTH} (so deep input cannot
 * overflow the stack). Every problem is a {@link JsonException}; no other exception escapes.
 *
 * <p>Values map to: object → {@code Map<String, Object>} (insertion order, unmodifiable, may hold
 * {@code null}), array → {@code List<Object>} (unmodifiable, may hold {@code null}), string →
 * {@code String}, number → {@code BigDecimal}, {@code true}/{@code false} → {@code Boolean},
 * {@code null} → {@code null}. Thread-safe (each call has its own state).
 */
public final class Json {
  /** Deepest nesting of arrays and objects accepted. */
  public static final int MAX_DEPTH = 64;

  private final String text;
  private int pos;

  private Json(String text) {
    this.text = text;
  }

  /**
   * Parses one JSON value (surrounding whitespace allowed).
   *
   * @throws JsonException when the text is not exactly one strict JSON value
   */
  public static Object parse(String text) {
    if (text == null) {
      throw new JsonException("no JSON input (null)", 0);
    }
    Json parser = new Json(text);
    parser.skipWhitespace();
    Object value = parser.value(0);
    parser.skipWhitespace();
    if (parser.pos != text.length()) {
      throw new JsonException("unexpected content after the JSON value", parser.pos);
    }
    return value;
  }

  /**
   * Parses a JSON object.
   *
   * @throws JsonException when the text is not strict JSON or its value is not an object
   */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> parseObject(String text) {
    Object value = parse(text);
    if (!(value instanceof Map)) {
      throw new JsonException("expected a JSON object", 0);
    }
    return (Map<String, Object>) value;
  }

  private Object value(int depth) {
    if (pos >= text.length()) {
      throw new JsonException("unexpected end of input, expected a value", pos);
    }
    char c = text.charAt(pos);
    switch (c) {
      case '{':
        return object(depth + 1);
      case '[':
        return array(depth + 1);
      case '"':
        return string();
      case 't':
        literal("true");
        return Boolean.TRUE;
      case 'f':
        literal("false");
        return Boolean.FALSE;
      case 'n':
        literal("null");
        return null;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          return number();
        }
        throw new JsonException("unexpected character " + describe(c) + ", expected a value", pos);
    }
  }

  private Map<String, Object> object(int depth) {
    checkDepth(depth);
    pos++; // '{'
    Map<String, Object> map = new LinkedHashMap<>();
    skipWhitespace();
    if (peek() == '}') {
      pos++;
      return Collections.unmodifiableMap(map);
    }
    while (true) {
      skipWhitespace();
      if (peek() != '"') {
        throw new JsonException("expected a string key", pos);
      }
      int keyStart = pos;
      String key = string();
      if (map.containsKey(key)) {
        throw new JsonException("duplicate key \"" + key + "\"", keyStart);
      }
      skipWhitespace();
      expect(':');
      skipWhitespace();
      map.put(key, value(depth));
      skipWhitespace();
      char c = peek();
      if (c == ',') {
        pos++;
      } else if (c == '}') {
        pos++;
        return Collections.unmodifiableMap(map);
      } else {
        throw new JsonException("expected ',' or '}' in object", pos);
      }
    }
  }

  private List<Object> array(int depth) {
    checkDepth(depth);
    pos++; // '['
    List<Object> list = new ArrayList<>();
    skipWhitespace();
    if (peek() == ']') {
      pos++;
      return Collections.unmodifiableList(list);
    }
    while (true) {
      skipWhitespace();
      list.add(value(depth));
      skipWhitespace();
      char c = peek();
      if (c == ',') {
        pos++;
      } else if (c == ']') {
        pos++;
        return Collections.unmodifiableList(list);
      } else {
        throw new JsonException("expected ',' or ']' in array", pos);
      }
    }
  }

  private String string() {
    pos++; // opening quote
    StringBuilder out = new StringBuilder();
    while (true) {
      if (pos >= text.length()) {
        throw new JsonException("unterminated string", pos);
      }
      char c = text.charAt(pos);
      if (c == '"') {
        pos++;
        return out.toString();
      }
      if (c < 0x20) {
        throw new JsonException("control character " + describe(c) + " in string", pos);
      }
      if (c == '\\') {
        escape(out);
        continue;
      }
      if (Character.isHighSurrogate(c)) {
        if (pos + 1 >= text.length() || !Character.isLowSurrogate(text.charAt(pos + 1))) {
          throw new JsonException("unpaired surrogate in string", pos);
        }
        out.append(c).append(text.charAt(pos + 1));
        pos += 2;
        continue;
      }
      if (Character.isLowSurrogate(c)) {
        throw new JsonException("unpaired surrogate in string", pos);
      }
      out.append(c);
      pos++;
    }
  }

  private void escape(StringBuilder out) {
    int start = pos;
    pos++; // backslash
    if (pos >= text.length()) {
      throw new JsonException("unterminated escape", start);
    }
    char e = text.charAt(pos++);
    switch (e) {
      case '"' -> out.append('"');
      case '\\' -> out.append('\\');
      case '/' -> out.append('/');
      case 'b' -> out.append('\b');
      case 'f' -> out.append('\f');
      case 'n' -> out.append('\n');
      case 'r' -> out.append('\r');
      case 't' -> out.append('\t');
      case 'u' -> {
        char unit = hex4(start);
        if (Character.isHighSurrogate(unit)) {
          if (pos + 1 < text.length() && text.charAt(pos) == '\\' && text.charAt(pos + 1) == 'u') {
            int second = pos;
            pos += 2;
            char low = hex4(second);
            if (!Character.isLowSurrogate(low)) {
              throw new JsonException("unpaired surrogate escape", start);
            }
            out.append(unit).append(low);
          } else {
            throw new JsonException("unpaired surrogate escape", start);
          }
        } else if (Character.isLowSurrogate(unit)) {
          throw new JsonException("unpaired surrogate escape", start);
        } else {
          out.append(unit);
        }
      }
      default -> throw new JsonException("invalid escape \\" + describe(e), start);
    }
  }

  private char hex4(int escapeStart) {
    if (pos + 4 > text.length()) {
      throw new JsonException("truncated \\u escape", escapeStart);
    }
    int value = 0;
    for (int i = 0; i < 4; i++) {
      char h = text.charAt(pos + i);
      int digit;
      if (h >= '0' && h <= '9') {
        digit = h - '0';
      } else if (h >= 'a' && h <= 'f') {
        digit = h - 'a' + 10;
      } else if (h >= 'A' && h <= 'F') {
        digit = h - 'A' + 10;
      } else {
        throw new JsonException("invalid \\u escape, expected four hex digits", escapeStart);
      }
      value = value * 16 + digit;
    }
    pos += 4;
    return (char) value;
  }

  private BigDecimal number() {
    int start = pos;
    if (peek() == '-') {
      pos++;
    }
    if (peek() == '0') {
      pos++;
      if (isDigit(peek())) {
        throw new JsonException("leading zero in number", start);
      }
    } else if (isDigit(peek())) {
      digits();
    } else {
      throw new JsonException("expected a digit in number", pos);
    }
    if (peek() == '.') {
      pos++;
      if (!isDigit(peek())) {
        throw new JsonException("expected a digit after '.' in number", pos);
      }
      digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      pos++;
      if (peek() == '+' || peek() == '-') {
        pos++;
      }
      if (!isDigit(peek())) {
        throw new JsonException("expected a digit in exponent", pos);
      }
      digits();
    }
    try {
      return new BigDecimal(text.substring(start, pos));
    } catch (NumberFormatException | ArithmeticException e) {
      throw new JsonException("number out of range", start);
    }
  }

  private void digits() {
    while (isDigit(peek())) {
      pos++;
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private void literal(String word) {
    if (!text.startsWith(word, pos)) {
      throw new JsonException("invalid literal, expected " + word, pos);
    }
    pos += word.length();
  }

  private void expect(char c) {
    if (peek() != c) {
      throw new JsonException("expected '" + c + "'", pos);
    }
    pos++;
  }

  /** The current character, or {@code \0} at the end (never a valid structural character here). */
  private char peek() {
    return pos < text.length() ? text.charAt(pos) : '\0';
  }

  private void skipWhitespace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      pos++;
    }
  }

  private void checkDepth(int depth) {
    if (depth > MAX_DEPTH) {
      throw new JsonException("nesting deeper than " + MAX_DEPTH, pos);
    }
  }

  private static String describe(char c) {
    return c < 0x20 || c > 0x7E ? String.format("U+%04X", (int) c) : "'" + c + "'";
  }
}
