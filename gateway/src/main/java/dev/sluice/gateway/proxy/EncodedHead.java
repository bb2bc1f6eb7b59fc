package dev.sluice.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import java.nio.charset.StandardCharsets;

/**
 * A forwarded message's head (request line or status line, header fields, blank line) already in
 * its HTTP/1.1 wire form, with how the body that follows it is framed. The exchange writes it
 * where it used to write a request or response object; the connection's encoder ({@link
 * UpstreamCodec} toward the upstream, {@link ResponseEncoder} toward the client) passes the bytes on
 * and frames the body's {@code HttpContent}s as Netty's encoders would ({@link BodyFraming}).
 *
 * <p>A {@link io.netty.buffer.ByteBufHolder}: its buffer passes on with the write, and Netty
 * releases it like any other message when a write fails.
 */
final class EncodedHead extends DefaultByteBufHolder {
  private static final byte[] KEEP_ALIVE_END = "connection: keep-alive\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CLOSE_END = "connection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final boolean chunked;
  private final boolean closes;
  private final boolean headRequest;

  EncodedHead(ByteBuf wire, boolean chunked, boolean closes, boolean headRequest) {
    super(wire);
    this.chunked = chunked;
    this.closes = closes;
    this.headRequest = headRequest;
  }

  /** Whether the body that follows is sent with chunked framing (else as it is). */
  boolean chunked() {
    return chunked;
  }

  /** A response head only: whether it carries {@code connection: close}. */
  boolean closes() {
    return closes;
  }

  /** A request head only: whether it is a {@code HEAD} request (its response has no body). */
  boolean headRequest() {
    return headRequest;
  }

  /**
   * A response head with {@code connection: close} as its last field (graceful drain), as {@code
   * headers().set(CONNECTION, CLOSE)} on the response object gave: a {@code connection:
   * keep-alive} field the gateway wrote last is replaced. Returns this when it already closes;
   * otherwise the buffer moves to the returned head (this one must not be released).
   */
  EncodedHead withClose() {
    if (closes) {
      return this;
    }
    ByteBuf wire = content();
    int end = wire.writerIndex();
    int keepAlive = end - KEEP_ALIVE_END.length;
    boolean replace = keepAlive >= wire.readerIndex();
    for (int i = 0; replace && i < KEEP_ALIVE_END.length; i++) {
      replace = wire.getByte(keepAlive + i) == KEEP_ALIVE_END[i];
    }
    wire.writerIndex(replace ? keepAlive : end - 2); // before the field, or before the blank line
    wire.writeBytes(CLOSE_END);
    return new EncodedHead(wire, chunked, true, headRequest);
  }
}
