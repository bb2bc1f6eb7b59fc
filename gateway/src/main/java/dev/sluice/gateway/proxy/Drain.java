package dev.sluice.gateway.proxy;

import dev.sluice.gateway.response.EncodedResponse;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Graceful stop of the client side (SPEC §9 drain): tracks every client connection and whether an
 * exchange is in progress on it (from the request head read until the last byte of the response
 * written), so that once the listener stops accepting, idle keep-alive connections are closed at
 * once and busy ones are closed right after their response, with {@code Connection: close}.
 *
 * <p>One {@link Tracker} per connection, between the codec and the proxy handler. Thread-safe.
 */
public final class Drain {
  private final Set<Channel> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger busy = new AtomicInteger();
  private volatile boolean draining;

  /** A new connection's tracker (the proxy's and the decision API's listeners share one drain). */
  public ChannelDuplexHandler tracker() {
    return new Tracker();
  }

  /** Exchanges in progress (request head read, response not fully written). */
  public int inProgress() {
    return busy.get();
  }

  /** Stops keep-alive: idle connections close now, busy ones after their response. */
  public void start() {
    draining = true;
    for (Channel ch : open) {
      ch.eventLoop().execute(() -> {
        Tracker t = ch.pipeline().get(Tracker.class);
        if (t != null && t.pending == 0) {
          ch.close();
        }
      });
    }
  }

  /**
   * Waits until no exchange is in progress or {@code timeoutMillis} passed; true when none is left.
   * Polls every 10 ms: this runs once per process lifetime.
   */
  public boolean awaitIdle(long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (busy.get() > 0) {
      if (System.nanoTime() - deadline >= 0) {
        return false;
      }
      Thread.sleep(10);
    }
    return true;
  }

  /** Counts one connection's exchanges; runs on its event loop. */
  final class Tracker extends ChannelDuplexHandler {
    int pending;

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      open.add(ctx.channel());
      if (draining) {
        ctx.close(); // accepted in the instant before the listener closed
        return;
      }
      super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      open.remove(ctx.channel());
      if (pending > 0) {
        busy.addAndGet(-pending);
        pending = 0;
      }
      super.channelInactive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (msg instanceof HttpRequest) {
        pending++;
        busy.incrementAndGet();
      }
      super.channelRead(ctx, msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
      if (msg instanceof EncodedResponse answer) {
        // One of Sluice's own answers, already in wire form: a whole response.
        EncodedResponse out = draining ? answer.withClose(ctx.alloc()) : answer;
        if (pending > 0) {
          pending--;
          busy.decrementAndGet();
          if (draining && pending == 0) {
            ChannelPromise closing = promise.isVoid() ? ctx.newPromise() : promise;
            closing.addListener(ChannelFutureListener.CLOSE);
            promise = closing;
          }
        }
        super.write(ctx, out, promise);
        return;
      }
      if (draining && msg instanceof EncodedHead head) {
        msg = head.withClose(); // a forwarded head in wire form (always a final response)
      }
      if (draining && msg instanceof HttpResponse response && response.status().code() >= 200) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      }
      if (msg instanceof LastHttpContent && pending > 0) {
        pending--;
        busy.decrementAndGet();
        if (draining && pending == 0) {
          promise.addListener(ChannelFutureListener.CLOSE);
        }
      }
      super.write(ctx, msg, promise);
    }
  }
}
