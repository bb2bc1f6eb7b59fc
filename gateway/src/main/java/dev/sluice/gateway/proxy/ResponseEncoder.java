package dev.sluice.gateway.proxy;

import dev.sluice.gateway.response.EncodedResponse;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * The client connection's response encoder: Netty's, except for what the gateway already holds in
 * wire form. An answer of Sluice's own ({@link EncodedResponse}) passes as the bytes it is; those
 * are whole responses written between exchanges, so the encoder's own state (always back at its
 * start after a full response) is never in the middle of a message when one passes. A forwarded
 * response's head ({@link EncodedHead}, from {@link ClientResponseHead}) passes as its bytes too,
 * and the body that follows it, up to its last content, is framed here ({@link BodyFraming})
 * without reaching Netty's encoder, which stays at its start.
 */
final class ResponseEncoder extends HttpResponseEncoder {
  private static final int IDLE = 0;
  private static final int PLAIN = 1;
  private static final int CHUNKED = 2;

  /** The framing of a forwarded body in progress after an {@link EncodedHead}, or {@link #IDLE}. */
  private int forwarding = IDLE;

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (forwarding != IDLE && msg instanceof HttpContent content) {
      if (content instanceof LastHttpContent) {
        boolean chunked = forwarding == CHUNKED;
        forwarding = IDLE;
        BodyFraming.write(ctx, content, chunked, promise);
      } else {
        BodyFraming.write(ctx, content, forwarding == CHUNKED, promise);
      }
      return;
    }
    if (msg instanceof EncodedHead head) {
      forwarding = head.chunked() ? CHUNKED : PLAIN;
      ctx.write(head.content(), promise); // the holder's reference passes with its buffer
      return;
    }
    if (msg instanceof EncodedResponse answer) {
      ctx.write(answer.content(), promise); // the holder's reference passes with its buffer
      return;
    }
    super.write(ctx, msg, promise);
  }
}
