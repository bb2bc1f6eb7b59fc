package dev.sluice.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.AsciiString;
import io.netty.util.CharsetUtil;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The head of the request sent upstream, written straight into one buffer from the client's
 * decoded and validated request: the request line with the origin-form, the client's end-to-end
 * fields in their order, then the gateway's own fields. This is {@link
 * ForwardingHeaders#upstreamRequest} (plus the upgrade, chunked and {@code Host} fields the exchange
 * adds) encoded by Netty's {@code HttpRequestEncoder}, byte for byte ({@code UpstreamHeadsTest}),
 * without building a second header map and encoding it field by field (docs/benchmarks.md, G3).
 *
 * <p>Why it is re-encoded and not copied from the client's bytes: what the upstream parses must be
 * exactly what the gateway parsed, validated and decided on. Netty's decoder has already resolved
 * everything two parsers could read differently (obs-fold lines joined, whitespace around values
 * trimmed, {@code Content-Length}/{@code Transfer-Encoding} checked by {@link StrictRequestDecoder}),
 * so writing its result back out in canonical form leaves the upstream nothing to interpret.
 */
final class UpstreamRequestHead {
  private static final byte[] SP_HTTP_1_1_CRLF = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final AsciiString UPGRADE_TOKEN = AsciiString.cached("Upgrade");

  /** Most request heads fit; the buffer grows for the rest. */
  private static final int INITIAL_CAPACITY = 512;

  private UpstreamRequestHead() {}

  /**
   * @param request the client's request as decoded (not modified)
   * @param originForm the target sent upstream ({@link RequestTarget#originForm()})
   * @param forwardedFor the {@code X-Forwarded-For} value (the engine's trusted chain plus the peer)
   * @param peerTrusted whether the peer is a trusted proxy (its forwarding claims are kept)
   * @param tls whether the client reached the gateway over TLS ({@code X-Forwarded-Proto: https})
   * @param tunnel whether the request is a WebSocket upgrade, which keeps its {@code Upgrade}
   * @param upstreamAuthority the {@code Host} sent for a request without one (HTTP/1.0)
   */
  static EncodedHead encode(ByteBufAllocator alloc, HttpRequest request, String originForm, String forwardedFor,
      boolean peerTrusted, boolean tls, boolean tunnel, String upstreamAuthority) {
    HttpHeaders client = request.headers();
    List<String> connectionListed = ForwardingHeaders.connectionTokens(client);
    boolean chunked = HttpUtil.isTransferEncodingChunked(request);
    HttpMethod method = request.method();
    ByteBuf out = alloc.buffer(INITIAL_CAPACITY);
    AsciiString methodName = method.asciiName();
    out.writeBytes(methodName.array(), methodName.arrayOffset(), methodName.length());
    out.writeByte(' ');
    out.writeCharSequence(originForm, CharsetUtil.UTF_8); // printable ASCII (RequestTarget)
    out.writeBytes(SP_HTTP_1_1_CRLF);
    boolean hasProto = false;
    boolean hasForwardedHost = false;
    boolean hasHost = false;
    Iterator<Map.Entry<CharSequence, CharSequence>> fields = client.iteratorCharSequence();
    while (fields.hasNext()) {
      Map.Entry<CharSequence, CharSequence> field = fields.next();
      CharSequence name = field.getKey();
      if (ForwardingHeaders.dropsFromRequest(name, connectionListed, peerTrusted)) {
        continue;
      }
      if (name.length() == 4) {
        hasHost |= HttpHeaderNames.HOST.contentEqualsIgnoreCase(name);
      } else if (peerTrusted) { // only a trusted peer's forwarding claims are kept
        hasProto |= ForwardingHeaders.X_FORWARDED_PROTO.contentEqualsIgnoreCase(name);
        hasForwardedHost |= ForwardingHeaders.X_FORWARDED_HOST.contentEqualsIgnoreCase(name);
      }
      HeadBytes.field(out, name, field.getValue());
    }
    HeadBytes.field(out, ForwardingHeaders.X_FORWARDED_FOR, forwardedFor);
    if (!hasProto) {
      HeadBytes.field(out, ForwardingHeaders.X_FORWARDED_PROTO, tls ? ForwardingHeaders.HTTPS : ForwardingHeaders.HTTP);
    }
    if (!hasForwardedHost) {
      String host = client.get(HttpHeaderNames.HOST);
      if (host != null) {
        HeadBytes.field(out, ForwardingHeaders.X_FORWARDED_HOST, host);
      }
    }
    if (tunnel) {
      // Upgrades.keepUpgrade: the client's Upgrade values, and Connection: Upgrade.
      for (String upgrade : client.getAll(HttpHeaderNames.UPGRADE)) {
        HeadBytes.field(out, HttpHeaderNames.UPGRADE, upgrade);
      }
      HeadBytes.field(out, HttpHeaderNames.CONNECTION, UPGRADE_TOKEN);
    }
    if (chunked) {
      HeadBytes.field(out, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    if (!hasHost) {
      // An HTTP/1.0 request may come without Host; the upstream gets HTTP/1.1, which needs one.
      HeadBytes.field(out, HttpHeaderNames.HOST, upstreamAuthority);
    }
    out.writeShort(HeadBytes.CRLF_SHORT);
    return new EncodedHead(out, chunked, false, method.equals(HttpMethod.HEAD));
  }
}
