package dev.sluice.gateway.proxy;

import dev.sluice.gateway.response.EncodedResponse;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpResponseEncoder;

/**
 * The client connection's response encoder: Netty's, except that an answer Sluice already holds in
 * its wire form ({@link EncodedResponse}) passes as the bytes it is. Those answers are whole
 * responses written between exchanges, so the encoder's own state (always back at its start after
 * a full response) is never in the middle of a message when one passes.
 */
final class ResponseEncoder extends HttpResponseEncoder {
  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (msg instanceof EncodedResponse answer) {
      ctx.write(answer.content(), promise); // the holder's reference passes with its buffer
      return;
    }
    super.write(ctx, msg, promise);
  }
}
