package dev.sluice.benchmarks.floor;

import dev.sluice.gateway.transport.Transports;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;

/**
 * The simplest correct keep-alive HTTP/1.1 reverse proxy in Netty: the client connection's
 * request objects go as they are to one upstream connection of its own (connected on the first
 * request, on the client's event loop, so no state is shared between threads, and kept for the
 * following requests); the upstream's response objects come back as they are. No pool, no header
 * rewriting, no backpressure (the bench's requests and responses are tiny): the floor of a Netty
 * proxy, to compare with the gateway's pass-through.
 *
 * <p>Ownership: every object read on one side is written to the other, which releases it, or
 * released here when it cannot be.
 */
final class FloorProxy extends ChannelInboundHandlerAdapter {
  private final InetSocketAddress upstreamAddress;
  /** Requests read while the upstream connection is being established. */
  private final ArrayDeque<Object> pending = new ArrayDeque<>();
  private Channel upstream;
  private boolean connected;
  /** Whether the request being forwarded lets the connection stay open after its response. */
  private boolean keepAlive = true;
  private boolean unflushed;

  FloorProxy(InetSocketAddress upstreamAddress) {
    this.upstreamAddress = upstreamAddress;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpObject http && http.decoderResult().isFailure()) {
      ReferenceCountUtil.release(msg);
      ctx.close(); // malformed request: drop the connection
      return;
    }
    if (msg instanceof HttpRequest request) {
      keepAlive = HttpUtil.isKeepAlive(request);
    }
    if (upstream == null) {
      connect(ctx);
    }
    if (connected) {
      upstream.write(msg, upstream.voidPromise());
      unflushed = true;
    } else {
      pending.add(msg);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (unflushed) {
      unflushed = false;
      upstream.flush();
    }
  }

  private void connect(ChannelHandlerContext ctx) {
    Channel client = ctx.channel();
    ChannelFuture connecting = new Bootstrap()
        .group(client.eventLoop())
        // The gateway's outgoing channel type follows its loops' transport.
        .channel(Transports.socketChannel(client.eventLoop()))
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            Transports.guard(ch);
            ch.pipeline().addLast("codec", new HttpClientCodec()).addLast("back", new Back(client));
          }
        })
        .connect(upstreamAddress);
    upstream = connecting.channel();
    connecting.addListener((ChannelFutureListener) done -> {
      if (!done.isSuccess()) {
        releasePending();
        client.close(); // no upstream: the client sees the connection close (no 502 in the floor)
        return;
      }
      connected = true;
      while (!pending.isEmpty()) {
        upstream.write(pending.poll(), upstream.voidPromise());
      }
      upstream.flush();
    });
  }

  private void releasePending() {
    while (!pending.isEmpty()) {
      ReferenceCountUtil.release(pending.poll());
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    releasePending();
    if (upstream != null) {
      upstream.close();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close(); // a reset by the client (wrk stopping) is not worth a stack trace
  }

  /** The upstream side: response objects back to the client connection. */
  private final class Back extends ChannelInboundHandlerAdapter {
    private final Channel client;
    private boolean unflushed;

    Back(Channel client) {
      this.client = client;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof LastHttpContent && !keepAlive) {
        // The client asked for "Connection: close": its connection ends after this response.
        client.writeAndFlush(msg).addListener(ChannelFutureListener.CLOSE);
        return;
      }
      client.write(msg, client.voidPromise());
      unflushed = true;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (unflushed) {
        unflushed = false;
        client.flush();
      }
    }

    /** The upstream closed: what was read goes out, then the client connection closes too. */
    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (client.isActive()) {
        client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
