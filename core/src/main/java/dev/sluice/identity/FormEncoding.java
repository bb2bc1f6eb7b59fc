package dev.sluice.identity;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * {@code application/x-www-form-urlencoded} text as clients send it in a query string (the
 * {@code api_key} query parameter) or a form body ({@code body:} identities): strict, so malformed
 * text is no value rather than a guess.
 */
final class FormEncoding {
  private FormEncoding() {}

  /** The first value of a form-encoded query parameter, or {@code null}. */
  static String parameter(String rawQuery, String name) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return null;
    }
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      String rawName = eq < 0 ? pair : pair.substring(0, eq);
      String decodedName = decode(rawName);
      if (decodedName == null || !decodedName.equals(name)) {
        continue;
      }
      if (eq < 0) {
        return null;
      }
      String value = decode(pair.substring(eq + 1));
      if (value != null) {
        return value;
      }
    }
    return null;
  }

  /** application/x-www-form-urlencoded decoding, strict UTF-8; {@code null} when malformed. */
  static String decode(String text) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '+') {
        bytes.write(' ');
      } else if (c == '%') {
        if (i + 2 >= text.length()) {
          return null;
        }
        int hi = HexFormat.isHexDigit(text.charAt(i + 1)) ? HexFormat.fromHexDigit(text.charAt(i + 1)) : -1;
        int lo = HexFormat.isHexDigit(text.charAt(i + 2)) ? HexFormat.fromHexDigit(text.charAt(i + 2)) : -1;
        if (hi < 0 || lo < 0) {
          return null;
        }
        bytes.write(hi * 16 + lo);
        i += 2;
      } else {
        byte[] utf8 = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        if (Character.isSurrogate(c)) {
          if (!Character.isHighSurrogate(c) || i + 1 >= text.length() || !Character.isLowSurrogate(text.charAt(i + 1))) {
            return null;
          }
          utf8 = text.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
          i++;
        }
        bytes.writeBytes(utf8);
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
