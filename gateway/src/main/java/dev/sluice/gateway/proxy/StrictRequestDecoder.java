package dev.sluice.gateway.proxy;

import dev.sluice.gateway.edge.ClientTimeouts;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.util.AsciiString;
import java.util.List;

/**
 * Netty's request decoder with the one leniency a rate-limiting gateway cannot afford removed.
 *
 * <p>Netty resolves a request carrying both {@code Content-Length} and {@code Transfer-Encoding}
 * by dropping {@code Content-Length} (RFC 9112 §6.3 allows that). A gateway in front of another
 * parser must instead refuse it: if the upstream framed the body differently, the rest of the body
 * would become a request the gateway never decided (request smuggling). Throwing here makes the
 * decoder emit an invalid message, which {@link ClientHandler} answers with 400 and a close.
 *
 * <p>It also drives the connection's {@link ClientTimeouts} (the head clock starts with a read,
 * ends with a decoded head): handlers of their own around the decoder would be two more pipeline
 * steps per read and per message.
 */
final class StrictRequestDecoder extends HttpRequestDecoder {

  /** Message of the decoder failure; {@link ClientHandler} shows it in the 400 body. */
  static final String BOTH_LENGTHS =
      "the request has both Content-Length and Transfer-Encoding; send exactly one of them";

  /** Message of the decoder failure for a repeated {@code Content-Length} field. */
  static final String DUPLICATE_LENGTH =
      "the request has more than one Content-Length header; send exactly one";

  /** Content-Length fields seen in the current message's header section. */
  private int contentLengthFields;

  /** Deadlines of this connection, or {@code null} for none (a decoder tested on its own). */
  private final ClientTimeouts timeouts;

  StrictRequestDecoder(HttpDecoderConfig config) {
    this(config, null);
  }

  StrictRequestDecoder(HttpDecoderConfig config, ClientTimeouts timeouts) {
    super(config);
    this.timeouts = timeouts;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    if (timeouts != null) {
      timeouts.active(ctx);
    }
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (timeouts != null && msg instanceof ByteBuf) {
      timeouts.read();
    }
    super.channelRead(ctx, msg);
  }

  /**
   * Tells the deadlines of every message decoded (where heads and bodies end). Messages decoded
   * when the connection ends ({@code decodeLast}) need no deadline: the connection is gone.
   */
  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
    int before = out.size();
    super.decode(ctx, buffer, out);
    if (timeouts != null) {
      for (int i = before; i < out.size(); i++) {
        timeouts.decoded(out.get(i));
      }
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (timeouts != null) {
      timeouts.stop();
    }
    super.channelInactive(ctx);
  }

  /** Removed when the connection becomes a tunnel: HTTP's deadlines end with HTTP. */
  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
    if (timeouts != null) {
      timeouts.stop();
    }
    super.handlerRemoved0(ctx);
  }

  @Override
  protected HttpMessage createMessage(String[] initialLine) throws Exception {
    contentLengthFields = 0;
    return super.createMessage(initialLine);
  }

  /**
   * Netty rejects repeated {@code Content-Length} only for HTTP/1.1 and silently merges equal
   * repeats for HTTP/1.0; counting the fields as they are parsed rejects every repeat, in every
   * version (SPEC §4).
   */
  @Override
  protected AsciiString splitHeaderName(byte[] sb, int start, int length) {
    AsciiString name = super.splitHeaderName(sb, start, length);
    if (HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name) && ++contentLengthFields > 1) {
      throw new IllegalArgumentException(DUPLICATE_LENGTH);
    }
    return name;
  }

  @Override
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
    throw new IllegalArgumentException(BOTH_LENGTHS);
  }
}
