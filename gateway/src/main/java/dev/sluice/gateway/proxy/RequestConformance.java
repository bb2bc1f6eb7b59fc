package dev.sluice.gateway.proxy;

import dev.sluice.gateway.response.Problems;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.InvalidChunkExtensionException;
import io.netty.handler.codec.http.InvalidChunkTerminationException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.List;

/**
 * HTTP/1.1 rules on a request head that Netty's decoder leaves to the server (RFC 9110, RFC 9112),
 * checked before anything is decided or forwarded. Each violation is refused with problem+json and
 * the connection closed, as nginx does for the same requests:
 *
 * <ul>
 *   <li>a version other than {@code HTTP/1.0} and {@code HTTP/1.1} → {@code 505} (a protocol
 *       other than {@code HTTP} → {@code 400});
 *   <li>a {@code Host} value that is not {@code host[:port]} (RFC 9110 §7.2; e.g. {@code a b}, an
 *       empty value) → {@code 400}, so no such value reaches the upstream's {@code Host} or
 *       {@code X-Forwarded-Host};
 *   <li>{@code TRACE} and {@code CONNECT} → {@code 405} with {@code Allow}: {@code TRACE} would
 *       echo the request — its cookies and credentials — back to a script (cross-site tracing), and
 *       the gateway is no tunnel;
 *   <li>an {@code Expect} other than {@code 100-continue} → {@code 417} (RFC 9110 §10.1.1).
 * </ul>
 *
 * <p>Raw bytes of 0x80 and above in the request target are refused by {@link RequestTarget}.
 */
final class RequestConformance {
  /** The {@code Allow} field of a 405: the methods the gateway forwards (extension methods too). */
  static final String ALLOW = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

  private static final HttpMethod CONNECT = HttpMethod.CONNECT;
  private static final HttpMethod TRACE = HttpMethod.TRACE;

  private RequestConformance() {}

  /** The refusal of a request head that breaks one of the rules above, or {@code null}. */
  static FullHttpResponse refusal(HttpRequest request) {
    HttpVersion version = request.protocolVersion();
    if (!version.protocolName().equals("HTTP")) {
      return Problems.badRequest("the request line names the protocol \"" + version.text()
          + "\"; expected HTTP/1.1 or HTTP/1.0");
    }
    if (version.majorVersion() != 1 || version.minorVersion() > 1) {
      return Problems.simple(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED,
          "the gateway speaks HTTP/1.1 and HTTP/1.0, not " + version.text());
    }
    // Indexed loops, not iterators: over an iterator Java 17's C2 put a profile-based predicate
    // before the loop that failed on every request ("profile_predicate" traps): the gateway's
    // request path was compiled again in a cold gateway's first seconds (docs/benchmarks.md,
    // "Cold start").
    List<String> hosts = request.headers().getAll(HttpHeaderNames.HOST);
    for (int i = 0, n = hosts.size(); i < n; i++) {
      String host = hosts.get(i);
      if (!isValidHost(host)) {
        return Problems.badRequest("the Host header " + quote(host)
            + " is not a valid host[:port]; expected a host name or address such as api.example.com:8080");
      }
    }
    HttpMethod method = request.method();
    if (method.equals(TRACE) || method.equals(CONNECT)) {
      return Problems.methodNotAllowed(
          "the gateway does not forward " + method.name() + " requests", ALLOW);
    }
    List<String> expectations = request.headers().getAll(HttpHeaderNames.EXPECT);
    for (int i = 0, n = expectations.size(); i < n; i++) {
      String expect = expectations.get(i);
      if (!HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expect.trim())) {
        return Problems.simple(HttpResponseStatus.EXPECTATION_FAILED,
            "the gateway meets only the expectation \"100-continue\", not " + quote(expect));
      }
    }
    return null;
  }

  /**
   * The detail of the 400 for a request body the decoder could not read (RFC 9112 §7.1): says
   * that the body's chunked framing is wrong and how, not that the "HTTP request" is malformed.
   */
  static String malformedBody(Throwable cause) {
    String message = cause == null || cause.getMessage() == null ? "" : cause.getMessage();
    String lower = message.toLowerCase(java.util.Locale.ROOT);
    if (cause instanceof InvalidChunkTerminationException) {
      return "malformed chunked body: a chunk's data is not followed by CRLF; expected exactly chunk-size"
          + " bytes of data, then CRLF";
    }
    if (cause instanceof InvalidChunkExtensionException) {
      return "malformed chunked body: a chunk-size line ends with a bare LF; expected CRLF";
    }
    if (cause instanceof TooLongHttpLineException) {
      return "malformed chunked body: a chunk-size line is too long; expected a hexadecimal size,"
          + " optional ;extensions, then CRLF";
    }
    if (lower.contains("chunk size overflow")) {
      return "malformed chunked body: a chunk size is larger than 2147483647 bytes; send smaller chunks";
    }
    if (lower.contains("chunk size")) {
      return "malformed chunked body: a chunk size is not a hexadecimal number; expected hex digits"
          + " (e.g. \"1a\"), optional ;extensions, then CRLF";
    }
    return "malformed request body: " + (message.isEmpty() ? "unreadable" : message);
  }

  /**
   * Whether {@code value} is {@code uri-host [":" port]} (RFC 9110 §7.2, RFC 3986 §3.2.2): a
   * non-empty reg-name (unreserved, sub-delims, pct-encoded), an IPv4 address (a reg-name too), or
   * an IP literal in brackets; the port, when present, at most five digits.
   */
  static boolean isValidHost(String value) {
    if (value.isEmpty()) {
      return false;
    }
    int hostEnd;
    if (value.charAt(0) == '[') {
      hostEnd = value.indexOf(']');
      if (hostEnd < 2) {
        return false;
      }
      for (int i = 1; i < hostEnd; i++) {
        char c = value.charAt(i);
        if (!(isHex(c) || c == ':' || c == '.' || c == 'v' || c == 'V' || isUnreserved(c) || isSubDelim(c))) {
          return false;
        }
      }
      hostEnd++;
    } else {
      int colon = value.lastIndexOf(':');
      hostEnd = colon < 0 ? value.length() : colon;
      if (hostEnd == 0) {
        return false;
      }
      for (int i = 0; i < hostEnd; i++) {
        char c = value.charAt(i);
        if (c == '%') {
          if (i + 2 >= hostEnd || !isHex(value.charAt(i + 1)) || !isHex(value.charAt(i + 2))) {
            return false;
          }
          i += 2;
        } else if (!isUnreserved(c) && !isSubDelim(c)) {
          return false;
        }
      }
    }
    if (hostEnd == value.length()) {
      return true;
    }
    if (value.charAt(hostEnd) != ':') {
      return false;
    }
    int digits = value.length() - hostEnd - 1;
    if (digits > 5) {
      return false;
    }
    for (int i = hostEnd + 1; i < value.length(); i++) {
      if (value.charAt(i) < '0' || value.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  private static boolean isUnreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
  }

  private static boolean isSubDelim(char c) {
    return "!$&'()*+,;=".indexOf(c) >= 0;
  }

  private static boolean isHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  /** A client value for a message: bounded, controls and non-ASCII escaped. */
  static String quote(String value) {
    String shown = value.length() > 100 ? value.substring(0, 100) + "…" : value;
    StringBuilder out = new StringBuilder(shown.length() + 2).append('"');
    for (int i = 0; i < shown.length(); i++) {
      char c = shown.charAt(i);
      if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }
}
