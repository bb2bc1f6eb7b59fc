package dev.sluice.gateway.proxy;

import dev.sluice.gateway.tls.UpstreamTls;
import dev.sluice.gateway.transport.Transports;
import dev.sluice.gateway.upstreams.Upstream;
import dev.sluice.gateway.upstreams.UpstreamSet;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Keep-alive connections to the upstreams, owned by one event loop.
 *
 * <p>Design: each client connection's exchange uses an upstream connection registered on the same
 * event loop, so the pool needs no locks and forwarding never crosses threads. Which upstream a
 * request goes to is the {@link UpstreamSet}'s choice (round robin over healthy ones); an idle
 * connection to that upstream is reused most-recently-used first (the one least likely to have
 * been closed by the upstream's keep-alive timeout), else a new one is opened. A failed connection
 * attempt is reported to the upstream's health and the request tries the next upstream. At most
 * {@code maxIdle} idle connections are kept over all upstreams, the rest are closed when released.
 * The number of connections in use is bounded by the number of client exchanges in flight on the
 * loop (one upstream connection per exchange).
 *
 * <p>Not thread-safe: every method must be called on {@link #loop()}.
 */
final class UpstreamPool {
  private static final AttributeKey<Upstream> UPSTREAM = AttributeKey.valueOf("sluice.upstream");

  private final EventLoop loop;
  private final UpstreamSet upstreams;
  private final Map<Upstream, Bootstrap> bootstraps = new IdentityHashMap<>();
  private final Map<Upstream, ArrayDeque<Channel>> idle = new IdentityHashMap<>();
  private final int maxIdle;
  private int idleCount;
  private boolean closed;

  /**
   * @param tls the TLS setup of each {@code https://} upstream, by {@link Upstream#text()}; an
   *     upstream not in the map is plain {@code http://}
   */
  UpstreamPool(EventLoop loop, UpstreamSet upstreams, Duration connectTimeout, int maxIdle,
      Map<String, UpstreamTls> tls) {
    this.loop = loop;
    this.maxIdle = maxIdle;
    this.upstreams = upstreams;
    for (Upstream upstream : upstreams.all()) {
      UpstreamTls upstreamTls = tls.get(upstream.text()); // SNI and host check of this upstream
      idle.put(upstream, new ArrayDeque<>());
      bootstraps.put(upstream,
          new Bootstrap()
              .group(loop)
              .channel(Transports.socketChannel(loop))
              .remoteAddress(upstream.address())
              .option(ChannelOption.TCP_NODELAY, true)
              .option(
                  ChannelOption.CONNECT_TIMEOUT_MILLIS,
                  (int) Math.max(1, Math.min(Integer.MAX_VALUE, connectTimeout.toMillis())))
              .handler(
                  new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                      ch.attr(UPSTREAM).set(upstream);
                      Transports.guard(ch);
                      if (upstreamTls != null) {
                        ch.pipeline().addLast("tls", upstreamTls.newHandler(ch));
                      }
                      ch.pipeline()
                          .addLast("codec", new UpstreamCodec(responseDecoderConfig()))
                          .addLast("upstream", new UpstreamHandler(UpstreamPool.this));
                    }
                  }));
    }
  }

  /** Limits of the upstream's response heads: status line 8 KiB, header section and chunks 64 KiB. */
  private static HttpDecoderConfig responseDecoderConfig() {
    return new HttpDecoderConfig().setMaxInitialLineLength(8192).setMaxHeaderSize(65536).setMaxChunkSize(65536);
  }

  EventLoop loop() {
    return loop;
  }

  /**
   * An open connection: an idle one to the chosen upstream when available, else a new one; a
   * failed attempt moves on to the next upstream, and the future fails only when none connected.
   *
   * @param fresh {@code true} to skip idle connections (a retry after a stale one failed)
   */
  Future<Channel> acquire(boolean fresh) {
    UpstreamSet.Attempts attempts = upstreams.attempts();
    Upstream first = attempts.next();
    if (!fresh) {
      ArrayDeque<Channel> parked = idle.get(first);
      Channel ch;
      while ((ch = parked.pollLast()) != null) {
        idleCount--;
        if (ch.isActive()) {
          first.used();
          return loop.newSucceededFuture(ch);
        }
      }
    }
    Promise<Channel> promise = loop.newPromise();
    connect(first, attempts, promise, null);
    return promise;
  }

  private void connect(Upstream upstream, UpstreamSet.Attempts attempts, Promise<Channel> promise,
      StringBuilder failures) {
    ChannelFuture connect = bootstraps.get(upstream).connect();
    connect.addListener(
        f -> {
          if (!f.isSuccess()) {
            failed(upstream, attempts, promise, failures, f.cause(),
                f.cause() instanceof ConnectException && message(f.cause()).toLowerCase(Locale.ROOT).contains("refused"));
            return;
          }
          SslHandler tls = connect.channel().pipeline().get(SslHandler.class);
          if (tls == null) {
            succeeded(upstream, connect.channel(), promise);
            return;
          }
          // An https upstream is usable once its certificate is verified: a failed handshake is a
          // failed connect (the next upstream is tried, then 502 with the reason), never a request
          // sent to an unverified peer.
          tls.handshakeFuture().addListener(h -> {
            if (h.isSuccess()) {
              succeeded(upstream, connect.channel(), promise);
            } else {
              connect.channel().close();
              failed(upstream, attempts, promise, failures, new javax.net.ssl.SSLException(
                  "TLS handshake failed: " + dev.sluice.gateway.tls.ListenerTls.reason(h.cause()), h.cause()), false);
            }
          });
        });
  }

  private static void succeeded(Upstream upstream, Channel ch, Promise<Channel> promise) {
    upstream.connected();
    upstream.used();
    promise.setSuccess(ch);
  }

  /** Reports the failed attempt to the upstream's health, then tries the next upstream or fails. */
  private void failed(Upstream upstream, UpstreamSet.Attempts attempts, Promise<Channel> promise,
      StringBuilder failures, Throwable cause, boolean refused) {
    upstream.connectFailed(refused);
    Upstream next = attempts.next();
    if (next == null && failures == null) {
      promise.setFailure(cause); // the only attempt: its own error, as with one upstream
      return;
    }
    StringBuilder all = failures == null ? new StringBuilder() : failures;
    all.append(all.length() == 0 ? "" : "; ").append(upstream.text()).append(": ").append(message(cause));
    if (next == null) {
      promise.setFailure(new ConnectException("no upstream answered (" + all + ")"));
    } else {
      connect(next, attempts, promise, all);
    }
  }

  private static String message(Throwable cause) {
    return cause == null || cause.getMessage() == null ? "unknown error" : cause.getMessage();
  }

  /** Returns a connection whose last exchange completed cleanly; it is kept if there is room. */
  void release(Channel ch) {
    Upstream upstream = ch.attr(UPSTREAM).get();
    if (!closed && ch.isActive() && idleCount < maxIdle && upstream != null) {
      idle.get(upstream).addLast(ch);
      idleCount++;
    } else {
      ch.close();
    }
  }

  /** Forgets a connection that closed (called from its handler). */
  void remove(Channel ch) {
    Upstream upstream = ch.attr(UPSTREAM).get();
    if (upstream != null && idle.get(upstream).remove(ch)) {
      idleCount--;
    }
  }

  /** Closes idle connections and refuses to keep more. */
  void close() {
    closed = true;
    for (ArrayDeque<Channel> parked : idle.values()) {
      Channel ch;
      while ((ch = parked.pollLast()) != null) {
        ch.close();
      }
    }
    idleCount = 0;
  }

  int idleCount() {
    return idleCount;
  }
}
