package dev.sluice.gateway.proxy;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.concurrent.Ticker;
import java.util.concurrent.TimeUnit;

/**
 * Fires an all-idle {@link IdleStateEvent} when a client connection has neither read nor written
 * for the idle time, and again every idle time while it stays so, as Netty's {@code
 * IdleStateHandler(0, 0, t)} does; {@link ClientHandler} closes the connection on it between
 * requests.
 *
 * <p>Why not Netty's handler: with an all-idle time it replaces every write's promise by a real one
 * (a void promise stops being void) and adds a listener that reads the clock when the write
 * completes, about 150 ns and 96 B per write (docs/benchmarks.md, G2). Here a write notes the
 * clock when it is issued, a read when its batch completes, and one timer per connection checks
 * and re-arms itself for the time left. The difference: a write counts from when it was issued,
 * not from when its last byte reached the socket.
 *
 * <p>Threading: one instance per channel; every method runs on the channel's event loop.
 */
final class ClientIdle extends ChannelDuplexHandler {
  private final long idleNanos;
  private ChannelHandlerContext ctx;
  private Ticker ticker;
  private long lastActivity;
  private boolean first = true;
  private ScheduledFuture<?> timer;
  private boolean stopped;

  ClientIdle(long idleNanos) {
    this.idleNanos = idleNanos;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
      start();
    }
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    stop();
  }

  @Override
  public void channelRegistered(ChannelHandlerContext ctx) throws Exception {
    if (ctx.channel().isActive()) {
      start();
    }
    super.channelRegistered(ctx);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    start();
    super.channelActive(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    stop();
    super.channelInactive(ctx);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    touch();
    super.channelReadComplete(ctx);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    touch();
    ctx.write(msg, promise); // the caller's promise, void or not, untouched
  }

  private void touch() {
    if (ticker != null) {
      lastActivity = ticker.nanoTime();
      first = true;
    }
  }

  private void start() {
    if (ticker != null || stopped) {
      return;
    }
    ticker = ctx.executor().ticker();
    lastActivity = ticker.nanoTime();
    timer = ctx.executor().schedule(this::check, idleNanos, TimeUnit.NANOSECONDS);
  }

  private void stop() {
    stopped = true;
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void check() {
    timer = null;
    if (stopped || !ctx.channel().isOpen()) {
      return;
    }
    long left = lastActivity + idleNanos - ticker.nanoTime();
    if (left > 0) {
      timer = ctx.executor().schedule(this::check, left, TimeUnit.NANOSECONDS);
      return;
    }
    timer = ctx.executor().schedule(this::check, idleNanos, TimeUnit.NANOSECONDS);
    IdleStateEvent event = first ? IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT : IdleStateEvent.ALL_IDLE_STATE_EVENT;
    first = false;
    ctx.fireUserEventTriggered(event);
  }
}
