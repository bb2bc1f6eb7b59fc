package dev.sluice.gateway.proxy;

import dev.sluice.identity.ClientAddress;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Header rules of a reverse proxy (RFC 9110 §7.6.1, SPEC §4): which fields stop at this hop, and
 * the {@code X-Forwarded-*} fields the upstream receives instead of what the client claimed.
 */
final class ForwardingHeaders {
  /** Hop-by-hop fields, always removed in both directions (plus any named in {@code Connection}). */
  private static final Set<String> HOP_BY_HOP =
      Set.of(
          "connection",
          "keep-alive",
          "proxy-connection",
          "proxy-authenticate",
          "proxy-authorization",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade");

  /**
   * Client claims about the original request. They reach the upstream only when the peer is a
   * trusted proxy; otherwise any client could tell a ProxyFix-configured app who it is.
   */
  private static final Set<String> CLIENT_CLAIMS =
      Set.of("forwarded", "x-real-ip", "x-forwarded-proto", "x-forwarded-host");

  private ForwardingHeaders() {}

  /**
   * The headers sent upstream for a client request: end-to-end fields unchanged (the client's
   * {@code Host} included, so the app sees the public host name), hop-by-hop fields and
   * {@code Expect} removed (the gateway answers {@code 100-continue} itself), and
   * {@code X-Forwarded-For} replaced by the engine's trusted chain plus the peer.
   */
  static HttpHeaders upstreamRequest(HttpHeaders client, ClientAddress address, boolean peerTrusted) {
    Set<String> connectionListed = connectionTokens(client);
    HttpHeaders out = new DefaultHttpHeaders();
    for (Map.Entry<String, String> field : client) {
      String name = field.getKey().toLowerCase(Locale.ROOT);
      if (HOP_BY_HOP.contains(name)
          || connectionListed.contains(name)
          || name.equals("expect")
          || name.equals("x-forwarded-for")
          || (!peerTrusted && CLIENT_CLAIMS.contains(name))) {
        continue;
      }
      out.add(field.getKey(), field.getValue());
    }
    out.set("X-Forwarded-For", address.forwardedFor());
    if (!out.contains("X-Forwarded-Proto")) {
      // The gateway listens on plain HTTP; TLS, if any, ends at a (trusted) proxy in front.
      out.set("X-Forwarded-Proto", "http");
    }
    String host = client.get(HttpHeaderNames.HOST);
    if (host != null && !out.contains("X-Forwarded-Host")) {
      out.set("X-Forwarded-Host", host);
    }
    return out;
  }

  /** The upstream response's end-to-end headers, for the response to the client. */
  static HttpHeaders clientResponse(HttpHeaders upstream) {
    Set<String> connectionListed = connectionTokens(upstream);
    HttpHeaders out = new DefaultHttpHeaders();
    for (Map.Entry<String, String> field : upstream) {
      String name = field.getKey().toLowerCase(Locale.ROOT);
      if (HOP_BY_HOP.contains(name) || connectionListed.contains(name)) {
        continue;
      }
      out.add(field.getKey(), field.getValue());
    }
    return out;
  }

  /**
   * Whether the TCP peer was trusted to report the client, judged from what the engine resolved:
   * the engine only walks the forwarding chain (so the client differs from the peer, or the chain
   * sent upstream has more than the peer) when the peer is a trusted proxy. A trusted proxy that
   * sent no chain is treated as untrusted here, which only drops its {@code Forwarded} /
   * {@code X-Real-IP} claims — the safe side.
   */
  static boolean peerTrusted(ClientAddress address, InetAddress peer) {
    if (address == null) {
      return false;
    }
    String chain = address.forwardedFor();
    if (chain != null && chain.indexOf(',') >= 0) {
      return true;
    }
    return address.client() != null && !address.client().equals(unmap(peer));
  }

  private static InetAddress unmap(InetAddress address) {
    if (address instanceof Inet6Address) {
      byte[] b = address.getAddress();
      boolean mapped = true;
      for (int i = 0; i < 10; i++) {
        mapped &= b[i] == 0;
      }
      mapped &= (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
      if (mapped) {
        try {
          return Inet4Address.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
        } catch (UnknownHostException impossible) {
          throw new AssertionError(impossible);
        }
      }
    }
    return address;
  }

  private static Set<String> connectionTokens(HttpHeaders headers) {
    List<String> values = headers.getAll(HttpHeaderNames.CONNECTION);
    if (values.isEmpty()) {
      return Set.of();
    }
    Set<String> tokens = new HashSet<>();
    for (String value : values) {
      for (String token : value.split(",")) {
        String t = token.trim().toLowerCase(Locale.ROOT);
        if (!t.isEmpty()) {
          tokens.add(t);
        }
      }
    }
    return tokens;
  }
}
