package dev.sluice.gateway.proxy;

import dev.sluice.identity.ClientAddress;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Header rules of a reverse proxy (RFC 9110 §7.6.1, SPEC §4): which fields stop at this hop, and
 * the {@code X-Forwarded-*} fields the upstream receives instead of what the client claimed.
 *
 * <p>Every forwarded request and response passes here, so names are compared in place, ASCII
 * case-insensitively (the decoders only accept token characters in names), instead of being
 * copied to lower-case strings, and no set is built unless a {@code Connection} field names
 * extra hop-by-hop fields.
 */
final class ForwardingHeaders {
  /** Hop-by-hop fields, always removed in both directions (plus any named in {@code Connection}). */
  private static final AsciiString[] HOP_BY_HOP = {
    HttpHeaderNames.CONNECTION,
    HttpHeaderNames.KEEP_ALIVE,
    AsciiString.cached("proxy-connection"),
    HttpHeaderNames.PROXY_AUTHENTICATE,
    HttpHeaderNames.PROXY_AUTHORIZATION,
    HttpHeaderNames.TE,
    HttpHeaderNames.TRAILER,
    HttpHeaderNames.TRANSFER_ENCODING,
    HttpHeaderNames.UPGRADE
  };

  /**
   * Client claims about the original request. They reach the upstream only when the peer is a
   * trusted proxy; otherwise any client could tell a ProxyFix-configured app who it is.
   */
  private static final AsciiString[] CLIENT_CLAIMS = {
    AsciiString.cached("forwarded"),
    AsciiString.cached("x-real-ip"),
    AsciiString.cached("x-forwarded-proto"),
    AsciiString.cached("x-forwarded-host")
  };

  static final AsciiString X_FORWARDED_FOR = AsciiString.cached("X-Forwarded-For");
  static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("X-Forwarded-Proto");
  static final AsciiString X_FORWARDED_HOST = AsciiString.cached("X-Forwarded-Host");
  static final AsciiString HTTP = AsciiString.cached("http");
  static final AsciiString HTTPS = AsciiString.cached("https");

  /**
   * The upstream request's fields are copied from the client's, which the decoder validated, or
   * are the engine's forwarding chain built from them; checking each value again would only cost.
   */
  private static final DefaultHttpHeadersFactory VALIDATED =
      DefaultHttpHeadersFactory.headersFactory().withValidation(false);

  private ForwardingHeaders() {}

  /**
   * The headers sent upstream for a client request: end-to-end fields unchanged (the client's
   * {@code Host} included, so the app sees the public host name), hop-by-hop fields and
   * {@code Expect} removed (the gateway answers {@code 100-continue} itself), and
   * {@code X-Forwarded-For} replaced by the engine's trusted chain plus the peer.
   *
   * <p>The rules as a header map: the gateway writes the same fields straight into the wire form
   * ({@link UpstreamRequestHead}), and {@code UpstreamHeadsTest} checks that form against this map
   * encoded by Netty.
   *
   * @param client the decoded (validated) request fields; not modified
   */
  static HttpHeaders upstreamRequest(HttpHeaders client, ClientAddress address, boolean peerTrusted) {
    return upstreamRequest(client, address, peerTrusted, false);
  }

  /**
   * As {@link #upstreamRequest(HttpHeaders, ClientAddress, boolean)}, with {@code X-Forwarded-Proto:
   * https} (unless a trusted proxy reported one) when the client reached the gateway over TLS.
   */
  static HttpHeaders upstreamRequest(HttpHeaders client, ClientAddress address, boolean peerTrusted, boolean tls) {
    List<String> connectionListed = connectionTokens(client);
    HttpHeaders out = VALIDATED.newHeaders();
    Iterator<Map.Entry<CharSequence, CharSequence>> fields = client.iteratorCharSequence();
    while (fields.hasNext()) {
      Map.Entry<CharSequence, CharSequence> field = fields.next();
      CharSequence name = field.getKey();
      if (!dropsFromRequest(name, connectionListed, peerTrusted)) {
        out.add(name, field.getValue());
      }
    }
    out.set(X_FORWARDED_FOR, address.forwardedFor());
    if (!out.contains(X_FORWARDED_PROTO)) {
      // Without gateway.tls, TLS (if any) ends at a trusted proxy in front, which says so itself.
      out.set(X_FORWARDED_PROTO, tls ? HTTPS : HTTP);
    }
    CharSequence host = client.get(HttpHeaderNames.HOST);
    if (host != null && !out.contains(X_FORWARDED_HOST)) {
      out.set(X_FORWARDED_HOST, host);
    }
    return out;
  }

  /**
   * The upstream response's end-to-end headers, for the response to the client (the responses
   * {@link ClientResponseHead} leaves to a response object, and its reference in tests): removes the
   * hop-by-hop fields from {@code upstream} in place (the upstream's response head is the
   * gateway's to reuse, so no copy is made) and returns it.
   */
  static HttpHeaders clientResponse(HttpHeaders upstream) {
    List<String> connectionListed = connectionTokens(upstream);
    for (AsciiString name : HOP_BY_HOP) {
      upstream.remove(name);
    }
    for (int i = 0, n = connectionListed.size(); i < n; i++) {
      upstream.remove(connectionListed.get(i));
    }
    return upstream;
  }

  /**
   * Whether a client request field named {@code name} stays at this hop: hop-by-hop, named in the
   * client's {@code Connection} ({@code connectionListed}, from {@link #connectionTokens}), {@code
   * Expect}, {@code X-Forwarded-For} (the gateway writes its own), or a client claim from an
   * untrusted peer.
   */
  static boolean dropsFromRequest(CharSequence name, List<String> connectionListed, boolean peerTrusted) {
    return isOneOf(name, HOP_BY_HOP)
        || isListed(name, connectionListed)
        || HttpHeaderNames.EXPECT.contentEqualsIgnoreCase(name)
        || X_FORWARDED_FOR.contentEqualsIgnoreCase(name)
        || (!peerTrusted && isOneOf(name, CLIENT_CLAIMS));
  }

  /** Whether an upstream response field named {@code name} stays at this hop (hop-by-hop or listed). */
  static boolean dropsFromResponse(CharSequence name, List<String> connectionListed) {
    return isOneOf(name, HOP_BY_HOP) || isListed(name, connectionListed);
  }

  /** The field names a {@code Connection} field lists; empty (no allocation) without one. */
  static List<String> connectionTokens(HttpHeaders headers) {
    if (!headers.contains(HttpHeaderNames.CONNECTION)) {
      return List.of();
    }
    List<String> tokens = new ArrayList<>(4);
    for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
      for (String token : value.split(",")) {
        String t = token.trim();
        if (!t.isEmpty()) {
          tokens.add(t);
        }
      }
    }
    return tokens;
  }

  private static boolean isOneOf(CharSequence name, AsciiString[] names) {
    for (AsciiString candidate : names) {
      if (candidate.contentEqualsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isListed(CharSequence name, List<String> tokens) {
    for (int i = 0, n = tokens.size(); i < n; i++) {
      if (AsciiString.contentEqualsIgnoreCase(name, tokens.get(i))) {
        return true;
      }
    }
    return false;
  }
}
