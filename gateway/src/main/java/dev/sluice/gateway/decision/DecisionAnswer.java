package dev.sluice.gateway.decision;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/**
 * Writes the {@code /v1/decide} answer straight into a buffer: {@code {"allowed": …, "status": …,
 * "headers": {…}, "body": {…}|null, "ticket": "…"|null}}. The header fields and the body are the
 * gateway's own (built by {@code Refusals} / {@code RateLimitHeaders}); the body's bytes are copied
 * in as they are, so the application can answer with exactly what the gateway sends.
 *
 * <p>Header names are written in their usual capitalisation ({@code Retry-After}, {@code
 * Content-Type}, {@code RateLimit-Policy}); field names are case-insensitive in HTTP, and this is
 * how they appear in a Python dict. {@code Content-Length} is left out: it belongs to the body as
 * the application will serialise it.
 *
 * <p>Stateless; thread-safe.
 */
final class DecisionAnswer {
  private static final byte[] ALLOWED = ascii("{\"allowed\":true,\"status\":");
  private static final byte[] REFUSED = ascii("{\"allowed\":false,\"status\":");
  private static final byte[] HEADERS = ascii(",\"headers\":{");
  private static final byte[] BODY = ascii("},\"body\":");
  private static final byte[] TICKET = ascii(",\"ticket\":");
  private static final byte[] NULL = ascii("null");
  private static final byte[] HEX = ascii("0123456789abcdef");

  private DecisionAnswer() {}

  /**
   * @param headers the fields the gateway would send (only names and values are read)
   * @param body the problem+json the gateway would send, or null
   * @param ticket the ticket to settle, or null
   */
  static ByteBuf write(ByteBufAllocator alloc, boolean allowed, int status, HttpHeaders headers, ByteBuf body,
      String ticket) {
    ByteBuf out = alloc.buffer(256 + (body == null ? 0 : body.readableBytes()));
    out.writeBytes(allowed ? ALLOWED : REFUSED);
    writeInt(out, status);
    out.writeBytes(HEADERS);
    boolean first = true;
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> e = it.next();
      CharSequence name = e.getKey();
      if (AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.CONTENT_LENGTH)) {
        continue;
      }
      if (!first) {
        out.writeByte(',');
      }
      first = false;
      writeString(out, canonical(name));
      out.writeByte(':');
      writeString(out, e.getValue());
    }
    out.writeBytes(BODY);
    if (body == null) {
      out.writeBytes(NULL);
    } else {
      out.writeBytes(body, body.readerIndex(), body.readableBytes());
    }
    out.writeBytes(TICKET);
    if (ticket == null) {
      out.writeBytes(NULL);
    } else {
      writeString(out, ticket);
    }
    out.writeByte('}');
    return out;
  }

  /** {@code retry-after} → {@code Retry-After}; names with capitals ({@code RateLimit}) stay as they are. */
  static CharSequence canonical(CharSequence name) {
    for (int i = 0; i < name.length(); i++) {
      if (Character.isUpperCase(name.charAt(i))) {
        return name;
      }
    }
    if (AsciiString.contentEquals(name, HttpHeaderNames.RETRY_AFTER)) {
      return "Retry-After";
    }
    if (AsciiString.contentEquals(name, HttpHeaderNames.CONTENT_TYPE)) {
      return "Content-Type";
    }
    if (AsciiString.contentEquals(name, HttpHeaderNames.CACHE_CONTROL)) {
      return "Cache-Control";
    }
    StringBuilder sb = new StringBuilder(name.length());
    boolean upper = true;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      sb.append(upper ? Character.toUpperCase(c) : c);
      upper = c == '-';
    }
    return sb.toString();
  }

  /** A JSON string; characters outside ASCII are written as UTF-8. */
  static void writeString(ByteBuf out, CharSequence s) {
    out.writeByte('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        out.writeByte('\\').writeByte(c);
      } else if (c < 0x20) {
        out.writeByte('\\').writeByte('u').writeByte('0').writeByte('0')
            .writeByte(HEX[c >> 4]).writeByte(HEX[c & 0xF]);
      } else if (c < 0x80) {
        out.writeByte(c);
      } else {
        int end = i + 1;
        while (end < s.length() && s.charAt(end) >= 0x80) {
          end++;
        }
        out.writeCharSequence(s.subSequence(i, end), StandardCharsets.UTF_8);
        i = end - 1;
      }
    }
    out.writeByte('"');
  }

  private static void writeInt(ByteBuf out, int value) {
    if (value >= 100 && value <= 999) {
      out.writeByte('0' + value / 100).writeByte('0' + value / 10 % 10).writeByte('0' + value % 10);
    } else {
      out.writeCharSequence(Integer.toString(value), StandardCharsets.US_ASCII);
    }
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
