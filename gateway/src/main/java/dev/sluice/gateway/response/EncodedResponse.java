package dev.sluice.gateway.response;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/**
 * One of Sluice's own answers (429, 403, 503, 408…) already in its HTTP/1.1 wire form: status
 * line, header fields, blank line and body, in one buffer. The gateway writes it past Netty's
 * {@code HttpResponseEncoder}, which would otherwise encode every header of a fresh response
 * object per answer (docs/benchmarks.md, G2).
 *
 * <p>The bytes are exactly what {@code HttpResponseEncoder} writes for the same {@link
 * FullHttpResponse} (same field order, names as given, {@code name: value} lines); {@code
 * EncodedResponseTest} checks every answer byte for byte against it. Constant answers are encoded
 * once ({@link Fixed}) and copied per response; the 429 is written from its templates
 * ({@link Problems#encodedTooManyRequests}).
 *
 * <p>{@code close} answers carry {@code connection: close} as their last field, as {@code
 * headers().set(CONNECTION, CLOSE)} on the response object would. A response to {@code HEAD}
 * keeps its {@code content-length} but not its body ({@link #headOnly()}).
 *
 * <p>A {@link io.netty.buffer.ByteBufHolder}: the gateway's encoder passes {@link #content()} on
 * as it is, and Netty releases it like any other message when a write fails. Not thread-safe: one
 * event loop builds and writes it.
 */
public final class EncodedResponse extends DefaultByteBufHolder {
  static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] COLON_SP = {':', ' '};
  static final byte[] CONNECTION_CLOSE = "connection: close\r\n".getBytes(StandardCharsets.US_ASCII);

  private final int status;
  private final boolean close;
  private final int headLength;

  EncodedResponse(int status, boolean close, ByteBuf wire, int headLength) {
    super(wire);
    this.status = status;
    this.close = close;
    this.headLength = headLength;
  }

  /** The status code. */
  public int status() {
    return status;
  }

  /** Whether the head carries {@code connection: close}. */
  public boolean closes() {
    return close;
  }

  /** Drops the body, keeping {@code content-length}: the answer to a {@code HEAD} request. */
  public void headOnly() {
    ByteBuf wire = content();
    wire.writerIndex(Math.min(wire.writerIndex(), wire.readerIndex() + headLength));
  }

  /**
   * The same answer with {@code connection: close} added as the last field (graceful drain); this
   * one is released. Returns this when it already closes.
   */
  public EncodedResponse withClose(ByteBufAllocator alloc) {
    if (close) {
      return this;
    }
    ByteBuf old = content();
    int start = old.readerIndex();
    int body = old.writerIndex() - start - headLength;
    ByteBuf out = alloc.buffer(old.readableBytes() + CONNECTION_CLOSE.length);
    out.writeBytes(old, start, headLength - 2); // up to the blank line
    out.writeBytes(CONNECTION_CLOSE);
    out.writeBytes(CRLF);
    int newHead = out.writerIndex();
    out.writeBytes(old, start + headLength, Math.max(0, body));
    release();
    return new EncodedResponse(status, true, out, newHead);
  }

  /**
   * Encodes {@code response} (and releases it): its status line, its fields in order, {@code
   * connection: close} when {@code close} and the response has no {@code Connection} field yet,
   * then its content. Used for the answers whose body varies per response (a ban's remaining
   * time, a concurrency cap); the hot and constant ones are built without a response object.
   */
  public static EncodedResponse encode(FullHttpResponse response, boolean close, ByteBufAllocator alloc) {
    try {
      byte[] bytes = bytes(response, close);
      int headLength = bytes.length - response.content().readableBytes();
      ByteBuf out = alloc.buffer(bytes.length);
      out.writeBytes(bytes);
      return new EncodedResponse(response.status().code(), close, out, headLength);
    } finally {
      response.release();
    }
  }

  /** The head of {@code response} as the reference encoder writes it, and the body after it. */
  static byte[] bytes(FullHttpResponse response, boolean close) {
    StringBuilder head = new StringBuilder(256);
    head.append(response.protocolVersion().text()).append(' ')
        .append(response.status().code()).append(' ').append(response.status().reasonPhrase()).append("\r\n");
    boolean hasConnection = false;
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = response.headers().iteratorCharSequence(); it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> field = it.next();
      hasConnection |= HttpHeaderNames.CONNECTION.contentEqualsIgnoreCase(field.getKey());
      head.append(field.getKey()).append(": ").append(field.getValue()).append("\r\n");
    }
    if (close && !hasConnection) {
      head.append(HttpHeaderNames.CONNECTION).append(": ").append(HttpHeaderValues.CLOSE).append("\r\n");
    }
    head.append("\r\n");
    // Header values are ASCII (Netty's encoder writes each char's low byte; so does ISO-8859-1).
    byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
    ByteBuf content = response.content();
    byte[] out = new byte[headBytes.length + content.readableBytes()];
    System.arraycopy(headBytes, 0, out, 0, headBytes.length);
    content.getBytes(content.readerIndex(), out, headBytes.length, content.readableBytes());
    return out;
  }

  /** Writes one {@code name: value} line. */
  static void field(ByteBuf out, AsciiString name, AsciiString value) {
    out.writeBytes(name.array(), name.arrayOffset(), name.length());
    out.writeBytes(COLON_SP);
    out.writeBytes(value.array(), value.arrayOffset(), value.length());
    out.writeBytes(CRLF);
  }

  /**
   * A constant answer, encoded once in both forms (keep-alive and {@code connection: close}) and
   * copied into a buffer of the channel's allocator per response. Thread-safe once built.
   */
  public static final class Fixed {
    private final int status;
    private final byte[] open;
    private final int openHead;
    private final byte[] closing;
    private final int closingHead;

    /** Encodes {@code response} (released here). */
    public Fixed(FullHttpResponse response) {
      this.status = response.status().code();
      int body = response.content().readableBytes();
      this.open = bytes(response, false);
      this.openHead = open.length - body;
      this.closing = bytes(response, true);
      this.closingHead = closing.length - body;
      response.release();
    }

    /** A copy to write, with {@code connection: close} when {@code close}. */
    public EncodedResponse copy(boolean close, ByteBufAllocator alloc) {
      byte[] bytes = close ? closing : open;
      ByteBuf out = alloc.buffer(bytes.length);
      out.writeBytes(bytes);
      return new EncodedResponse(status, close, out, close ? closingHead : openHead);
    }
  }
}
