package dev.sluice.gateway.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;

/**
 * The last handler of an upstream connection: hands what the upstream sends to the exchange that
 * currently owns the connection (its {@link Forwarding}). An idle connection owns nothing;
 * anything it receives is a protocol error and closes it.
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {
  private final UpstreamPool pool;
  private Forwarding owner;
  private int uses;

  UpstreamHandler(UpstreamPool pool) {
    this.pool = pool;
  }

  /** Binds the connection to an exchange; returns whether it served an exchange before. */
  boolean attach(Forwarding forwarding) {
    owner = forwarding;
    return uses++ > 0;
  }

  void detach() {
    owner = null;
  }

  /** Unbinds {@code upstream}'s connection from its exchange (nothing reaches that exchange any more). */
  static void detach(Channel upstream) {
    UpstreamHandler handler = upstream.pipeline().get(UpstreamHandler.class);
    if (handler != null) {
      handler.detach();
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Forwarding forwarding = owner;
    if (forwarding == null) {
      ReferenceCountUtil.release(msg);
      ctx.close();
      return;
    }
    if (msg instanceof HttpResponse response) {
      forwarding.upstreamHead(response);
    }
    if (msg instanceof HttpContent content) {
      if (owner == forwarding) {
        forwarding.upstreamContent(content);
      } else {
        content.release();
      }
    } else if (!(msg instanceof HttpResponse)) {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (owner != null) {
      owner.upstreamWritabilityChanged();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    pool.remove(ctx.channel());
    Forwarding forwarding = owner;
    owner = null;
    if (forwarding != null) {
      forwarding.upstreamClosed();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // An I/O error on the upstream connection: closing it reports to the owner via channelInactive.
    ctx.close();
  }
}
