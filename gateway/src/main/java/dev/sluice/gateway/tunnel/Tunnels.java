package dev.sluice.gateway.tunnel;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open WebSocket tunnels of one proxy, and their metrics:
 *
 * <ul>
 *   <li>{@code sluice_websocket_tunnels_open}: tunnels open now (client and upstream connection
 *       both relaying raw bytes after a {@code 101});
 *   <li>{@code sluice_websocket_tunnels_opened_total}: tunnels opened since start.
 * </ul>
 *
 * <p>Design. A {@link Tunnel} joins two channels of one event loop (the proxy's upstream pool is
 * per loop), so relaying never crosses threads. Each side reads bytes and writes them to the other
 * side; while the other side is not writable, reads on this side stop (autoRead off) until it
 * drains, so a fast sender and a slow reader never make the gateway buffer. When either side
 * closes, the other is flushed and closed, and the tunnel's {@code onClose} runs exactly once (the
 * proxy returns the request's {@code concurrency:} permits there). A tunnel with no byte in either
 * direction for {@link #idleTimeout()} is closed.
 *
 * <p>Thread-safe: the counters are atomic; each tunnel runs on its event loop.
 */
public final class Tunnels {
  /** Default idle limit of a tunnel: no byte either way for this long closes it. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);

  private static final Logger log = LoggerFactory.getLogger(Tunnels.class);

  private final AtomicInteger open = new AtomicInteger();
  private final Counter opened;
  private final Duration idleTimeout;

  /**
   * @param registry where the gauge and counter are registered; {@code null} for none
   * @param idleTimeout how long a tunnel may carry no byte either way before it is closed
   */
  public Tunnels(MeterRegistry registry, Duration idleTimeout) {
    if (idleTimeout == null || idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("tunnel idle timeout must be positive, got " + idleTimeout);
    }
    this.idleTimeout = idleTimeout;
    if (registry == null) {
      opened = null;
      return;
    }
    // Held strongly: Micrometer keeps a gauge's state weakly by default (see EdgeMetrics).
    Gauge.builder("sluice_websocket_tunnels_open", open, AtomicInteger::get)
        .description("WebSocket tunnels open now")
        .strongReference(true)
        .register(registry);
    opened = Counter.builder("sluice_websocket_tunnels_opened")
        .description("WebSocket tunnels opened (upgrades the upstream answered 101)")
        .register(registry);
  }

  /** Tunnels open now. */
  public int open() {
    return open.get();
  }

  /** How long a tunnel may stay silent both ways. */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  /**
   * A tunnel between {@code client} and {@code upstream} (same event loop); counted as open from
   * here. Put {@link Tunnel#clientSide()} and {@link Tunnel#upstreamSide()} last in the pipelines
   * once the HTTP codecs are gone, then call {@link Tunnel#start()}.
   *
   * @param onClose runs once when the tunnel closes, on the event loop; must not throw
   */
  public Tunnel open(Channel client, Channel upstream, Runnable onClose) {
    open.incrementAndGet();
    if (opened != null) {
      opened.increment();
    }
    return new Tunnel(client, upstream, onClose);
  }

  /** One client connection joined to one upstream connection. */
  public final class Tunnel {
    private final Channel client;
    private final Channel upstream;
    private final Runnable onClose;
    private boolean closed;

    private Tunnel(Channel client, Channel upstream, Runnable onClose) {
      this.client = client;
      this.upstream = upstream;
      this.onClose = onClose;
    }

    /** The handler that relays the client's bytes to the upstream. */
    public ChannelHandler clientSide() {
      return new Relay(upstream);
    }

    /** The handler that relays the upstream's bytes to the client. */
    public ChannelHandler upstreamSide() {
      return new Relay(client);
    }

    /** The client side's idle timer (replaces the keep-alive idle timer of the HTTP connection). */
    public ChannelHandler idleHandler() {
      return new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Starts reading both sides; closes the tunnel at once if a side is already gone. */
    public void start() {
      if (!client.isActive() || !upstream.isActive()) {
        close();
        return;
      }
      client.config().setAutoRead(true);
      upstream.config().setAutoRead(true);
    }

    /** Closes both sides (after flushing what was relayed) and runs {@code onClose} once. */
    public void close() {
      flushAndClose(client);
      flushAndClose(upstream);
      if (closed) {
        return;
      }
      closed = true;
      open.decrementAndGet();
      try {
        onClose.run();
      } catch (RuntimeException e) {
        log.warn("closing a WebSocket tunnel failed", e);
      }
    }

    private static void flushAndClose(Channel ch) {
      if (ch.isActive()) {
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      } else {
        ch.close();
      }
    }

    private final class Relay extends ChannelInboundHandlerAdapter {
      private final Channel peer;

      Relay(Channel peer) {
        this.peer = peer;
      }

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf bytes) || closed) {
          ReferenceCountUtil.release(msg); // leftovers of the HTTP codecs carry no tunnel bytes
          return;
        }
        peer.write(bytes).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
        if (!peer.isWritable()) {
          ctx.channel().config().setAutoRead(false); // resumed by the peer's writability change
        }
      }

      @Override
      public void channelReadComplete(ChannelHandlerContext ctx) {
        peer.flush();
      }

      @Override
      public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && !closed) {
          peer.config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        close();
      }

      @Override
      public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent) {
          log.debug("WebSocket tunnel {} idle for {}; closing it", ctx.channel().remoteAddress(), idleTimeout);
          close();
          return;
        }
        ctx.fireUserEventTriggered(event);
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("WebSocket tunnel connection {} failed", ctx.channel().remoteAddress(), cause);
        close();
      }
    }
  }
}
