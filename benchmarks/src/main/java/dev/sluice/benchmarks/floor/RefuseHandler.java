package dev.sluice.benchmarks.floor;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

/**
 * Answers every request with one constant 429, byte for byte the size and header names of the
 * one Sluice sends on the bench's limited route ({@code headers: ietf}, policy {@code flood},
 * {@code 10/second}; captured from the gateway at main eb72aa3). Nothing is decided, counted or
 * encoded per request: the floor of a refusing Netty server.
 */
final class RefuseHandler extends ChannelInboundHandlerAdapter {
  /** The body of Sluice's 429 problem document (282 bytes). */
  static final String BODY = "{\"type\":\"https://iana.org/assignments/http-problem-types#quota-exceeded\","
      + "\"title\":\"Too Many Requests\",\"status\":429,\"detail\":\"Rate limit \\\"10/second\\\" of policy "
      + "\\\"flood\\\" exceeded; retry in 1 second.\",\"violated-policies\":[\"flood\"],\"policy\":\"flood\","
      + "\"limit\":\"10/second\",\"retry_after\":1}";

  static final String RESPONSE = "HTTP/1.1 429 Too Many Requests\r\n"
      + "content-type: application/problem+json\r\n"
      + "content-length: " + BODY.getBytes(StandardCharsets.UTF_8).length + "\r\n"
      + "cache-control: no-store\r\n"
      + "retry-after: 1\r\n"
      + "RateLimit-Policy: \"flood\";q=10;w=1\r\n"
      + "RateLimit: \"flood\";r=0;t=1\r\n"
      + "\r\n"
      + BODY;

  /**
   * One direct buffer shared by all event loops. Unreleasable, so its retained duplicates skip the
   * reference count: four loops bumping one shared atomic counter would make the floor pay a
   * cache-line ping-pong per response that a per-response copy does not have.
   */
  private static final ByteBuf SHARED = Unpooled.unreleasableBuffer(
      Unpooled.directBuffer(RESPONSE.length()).writeBytes(RESPONSE.getBytes(StandardCharsets.US_ASCII)));

  private boolean keepAlive = true;
  private boolean unflushed;
  private boolean closing;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (closing) {
        return; // pipelined requests after "Connection: close" are not answered
      }
      if (msg instanceof HttpObject http && http.decoderResult().isFailure()) {
        closing = true; // malformed: no answer here, just drop the connection
        ctx.close();
        return;
      }
      if (msg instanceof HttpRequest request) {
        keepAlive = HttpUtil.isKeepAlive(request);
      }
      if (msg instanceof LastHttpContent) {
        if (keepAlive) {
          ctx.write(SHARED.retainedDuplicate(), ctx.voidPromise());
          unflushed = true;
        } else {
          closing = true;
          ctx.writeAndFlush(SHARED.retainedDuplicate()).addListener(ChannelFutureListener.CLOSE);
        }
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  /** One flush per batch of reads: pipelined requests leave in one write system call. */
  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (unflushed) {
      unflushed = false;
      ctx.flush();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close(); // a reset by the client (wrk stopping) is not worth a stack trace
  }
}
