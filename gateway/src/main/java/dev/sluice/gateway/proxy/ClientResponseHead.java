package dev.sluice.gateway.proxy;

import dev.sluice.config.HeaderStyle;
import dev.sluice.engine.Decision;
import dev.sluice.engine.Outcome;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.gateway.response.RateLimitHeaders;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The head of a forwarded response toward the client, written straight into one buffer from the
 * upstream's decoded response: the status line, the upstream's end-to-end fields in their order,
 * the gateway's rate-limit fields, then the framing and {@code Connection} fields the gateway
 * chooses. Byte for byte what the exchange's response object ({@link
 * ForwardingHeaders#clientResponse}, {@link RateLimitHeaders#apply}, chunked framing, {@code
 * Connection}) gave through Netty's {@code HttpResponseEncoder} ({@code UpstreamHeadsTest}), without
 * removing fields from a header map, setting new ones and encoding them one by one
 * (docs/benchmarks.md, G3).
 *
 * <p>Heads the reference encoder changes on the way out (1xx, 204, 205, 304: it strips or sets
 * framing fields) and decisions other than allowed or exempt are left to the response object
 * ({@link #encode} returns {@code null}); they are rare.
 */
final class ClientResponseHead {
  private static final byte[] HTTP_1_1_SP = "HTTP/1.1 ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HTTP_1_1_200_OK = "HTTP/1.1 200 OK\r\n".getBytes(StandardCharsets.US_ASCII);

  /** Most response heads fit; the buffer grows for the rest. */
  private static final int INITIAL_CAPACITY = 512;

  private ClientResponseHead() {}

  /**
   * The head, or {@code null} when this response is written as an object (see the class comment).
   *
   * @param upstream the upstream's response head as decoded (not modified)
   * @param bodyless the client gets no body (a {@code HEAD} request, 204, 304)
   * @param http11Client the client spoke HTTP/1.1 (else 1.0: no chunked framing, and keep-alive is
   *     said explicitly)
   * @param keepAlive the client keeps the connection open
   */
  static EncodedHead encode(ByteBufAllocator alloc, HttpResponse upstream, HeaderStyle style, Decision decision,
      boolean bodyless, boolean http11Client, boolean keepAlive) {
    HttpResponseStatus status = upstream.status();
    int code = status.code();
    if (code < 200 || code == 204 || code == 205 || code == 304
        || !(decision.exempt() || decision.outcome() == Outcome.ALLOWED)) {
      return null;
    }
    PolicyDecision reported = RateLimitHeaders.reportedAllowed(style, decision);
    HttpHeaders headers = upstream.headers();
    List<String> connectionListed = ForwardingHeaders.connectionTokens(headers);
    ByteBuf out = alloc.buffer(INITIAL_CAPACITY);
    if (status == HttpResponseStatus.OK) { // the decoder's constant when the reason is "OK"
      out.writeBytes(HTTP_1_1_200_OK);
    } else {
      out.writeBytes(HTTP_1_1_SP);
      AsciiString codeText = status.codeAsText();
      out.writeBytes(codeText.array(), codeText.arrayOffset(), codeText.length());
      out.writeByte(' ');
      HeadBytes.text(out, status.reasonPhrase());
      out.writeShort(HeadBytes.CRLF_SHORT);
    }
    boolean hasLength = false;
    Iterator<Map.Entry<CharSequence, CharSequence>> fields = headers.iteratorCharSequence();
    while (fields.hasNext()) {
      Map.Entry<CharSequence, CharSequence> field = fields.next();
      CharSequence name = field.getKey();
      if (ForwardingHeaders.dropsFromResponse(name, connectionListed)
          || (reported != null && RateLimitHeaders.writesField(style, name))) {
        continue;
      }
      hasLength |= HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name);
      HeadBytes.field(out, name, field.getValue());
    }
    if (reported != null) {
      RateLimitHeaders.writeAllowed(style, reported, out);
    }
    boolean chunked = false;
    boolean close = !keepAlive;
    if (!bodyless && !hasLength) {
      if (http11Client) {
        chunked = true;
      } else {
        close = true; // an HTTP/1.0 client learns the end of the body from the close
      }
    }
    if (chunked) {
      HeadBytes.field(out, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    if (close) {
      HeadBytes.field(out, HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (!http11Client) {
      HeadBytes.field(out, HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    out.writeShort(HeadBytes.CRLF_SHORT);
    return new EncodedHead(out, chunked, close, false);
  }
}
