package dev.sluice.identity;

import dev.sluice.identity.internal.Json;
import dev.sluice.identity.internal.JsonException;
import dev.sluice.request.RequestView;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads one top-level field of a buffered request body for {@code body:<field>} identities.
 *
 * <p>Design: the value must be the one the upstream application will read, or an attacker could
 * be counted under one name while logging in as another. So the reader is strict and says "no
 * identity" whenever it cannot be sure: a body that may be truncated (the upstream would see more
 * than we did, e.g. a second {@code "username"} key after 16 KiB), a compressed body, a charset
 * other than UTF-8/ASCII, malformed JSON, a JSON document with duplicate keys (frameworks disagree
 * on which wins), a form that repeats the field, or a value that is not a string or number. The
 * policy's fallback chain (ultimately {@code ip}) then applies, so evasion degrades to the next
 * identity, never to no limit.
 *
 * <p>Values are trimmed and lower-cased (locale-independent) so {@code Alice} and {@code alice }
 * share a bucket: most applications treat user names case-insensitively, and for an application
 * that does not, the only effect is two accounts sharing one budget, the safe direction.
 *
 * <p>Stateless; never throws for client input.
 */
final class BodyField {
  private BodyField() {}

  /** The normalised value of {@code field}, or {@code null} when the request does not have it. */
  static String read(RequestView request, String field) {
    byte[] body = request.bodyPrefix();
    if (body == null || body.length == 0 || !complete(request, body.length) || encoded(request)) {
      return null;
    }
    List<String> types = request.headers("Content-Type");
    if (types.size() != 1) {
      return null; // none, or ambiguous
    }
    MediaType type = MediaType.parse(types.get(0));
    if (type == null || !type.utf8Compatible()) {
      return null;
    }
    String text = utf8(body);
    if (text == null) {
      return null;
    }
    String value;
    if (type.isJson()) {
      value = json(text, field);
    } else if (type.isForm()) {
      value = form(text, field);
    } else {
      return null;
    }
    if (value == null) {
      return null;
    }
    value = value.strip().toLowerCase(Locale.ROOT);
    return value.isEmpty() ? null : value;
  }

  /** Whether {@code length} bytes are the whole body (see {@link RequestView#bodyPrefix()}). */
  private static boolean complete(RequestView request, int length) {
    List<String> lengths = request.headers("Content-Length");
    if (lengths.isEmpty()) {
      return length < RequestView.BODY_PREFIX_LIMIT;
    }
    if (lengths.size() != 1) {
      return false;
    }
    String declared = lengths.get(0).strip();
    if (declared.isEmpty() || declared.length() > 18 || !declared.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return false;
    }
    return Long.parseLong(declared) == length;
  }

  /** A content-coded body (gzip…) is not the text the application parses after decoding. */
  private static boolean encoded(RequestView request) {
    for (String line : request.headers("Content-Encoding")) {
      for (String coding : line.split(",")) {
        String c = coding.strip();
        if (!c.isEmpty() && !c.equalsIgnoreCase("identity")) {
          return true;
        }
      }
    }
    return false;
  }

  private static String utf8(byte[] body) {
    try {
      String text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(body)).toString();
      return text.startsWith("\uFEFF") ? text.substring(1) : text;
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private static String json(String text, String field) {
    Map<String, Object> document;
    try {
      document = Json.parseObject(text);
    } catch (JsonException e) {
      return null;
    }
    Object value = document.get(field);
    if (value instanceof String s) {
      return s;
    }
    if (value instanceof BigDecimal n) {
      return number(n);
    }
    return null; // absent, null, boolean, object or array: nested values are not identities
  }

  /**
   * The canonical text of a JSON number, so {@code 42}, {@code 42.0} and {@code 4.2e1} are one
   * identity. Numbers of more than 40 significant digits are refused rather than normalised (which
   * could cost time quadratic in their length).
   */
  private static String number(BigDecimal n) {
    if (n.precision() > 40) {
      return null;
    }
    BigDecimal stripped = n.signum() == 0 ? BigDecimal.ZERO : n.stripTrailingZeros();
    if (stripped.scale() <= 0 && stripped.precision() - stripped.scale() <= 40) {
      return stripped.toBigInteger().toString();
    }
    return stripped.toString();
  }

  /** The value of a field that occurs exactly once in an urlencoded form, else {@code null}. */
  private static String form(String text, String field) {
    String found = null;
    for (String pair : text.split("&", -1)) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = FormEncoding.decode(eq < 0 ? pair : pair.substring(0, eq));
      if (name == null || !name.equals(field)) {
        continue;
      }
      if (found != null) {
        return null; // repeated: frameworks disagree on which one wins
      }
      String value = eq < 0 ? "" : FormEncoding.decode(pair.substring(eq + 1));
      if (value == null) {
        return null; // malformed percent-encoding in the very field we need
      }
      found = value;
    }
    return found;
  }

  /** A parsed {@code Content-Type}: only what the reader needs. */
  private record MediaType(String type, String charset) {
    static MediaType parse(String header) {
      String[] pieces = header.split(";", -1);
      String type = pieces[0].strip().toLowerCase(Locale.ROOT);
      if (type.isEmpty()) {
        return null;
      }
      String charset = null;
      for (int i = 1; i < pieces.length; i++) {
        String p = pieces[i].strip();
        int eq = p.indexOf('=');
        if (eq <= 0) {
          continue;
        }
        if (p.substring(0, eq).strip().equalsIgnoreCase("charset")) {
          if (charset != null) {
            return null; // two charsets: ambiguous
          }
          String value = p.substring(eq + 1).strip();
          if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
            value = value.substring(1, value.length() - 1);
          }
          charset = value.toLowerCase(Locale.ROOT);
        }
      }
      return new MediaType(type, charset);
    }

    boolean isJson() {
      // application/json and structured-syntax suffixes such as application/vnd.api+json
      return type.equals("application/json")
          || (type.startsWith("application/") && type.endsWith("+json") && type.indexOf('/') == type.lastIndexOf('/'));
    }

    boolean isForm() {
      return type.equals("application/x-www-form-urlencoded");
    }

    boolean utf8Compatible() {
      return charset == null || charset.equals("utf-8") || charset.equals("utf8") || charset.equals("us-ascii");
    }
  }
}
