package dev.sluice.gateway.proxy;

import dev.sluice.gateway.transport.Transports;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * Keep-alive connections to the upstream, owned by one event loop.
 *
 * <p>Design: each client connection's exchange uses an upstream connection registered on the same
 * event loop, so the pool needs no locks and forwarding never crosses threads. Idle connections are
 * reused most-recently-used first (the one least likely to have been closed by the upstream's
 * keep-alive timeout); at most {@code maxIdle} are kept, the rest are closed when released. The
 * number of connections in use is bounded by the number of client exchanges in flight on the loop
 * (one upstream connection per exchange).
 *
 * <p>Not thread-safe: every method must be called on {@link #loop()}.
 */
final class UpstreamPool {
  private final EventLoop loop;
  private final Bootstrap bootstrap;
  private final int maxIdle;
  private final ArrayDeque<Channel> idle = new ArrayDeque<>();
  private boolean closed;

  UpstreamPool(EventLoop loop, InetSocketAddress upstream, Duration connectTimeout, int maxIdle,
      dev.sluice.gateway.tls.UpstreamTls tls) {
    this.loop = loop;
    this.maxIdle = maxIdle;
    this.bootstrap =
        new Bootstrap()
            .group(loop)
            .channel(Transports.socketChannel(loop))
            .remoteAddress(upstream)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int) Math.max(1, Math.min(Integer.MAX_VALUE, connectTimeout.toMillis())))
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    if (tls != null) {
                      ch.pipeline().addLast("tls", tls.newHandler(ch));
                    }
                    ch.pipeline()
                        .addLast("codec", new HttpClientCodec(8192, 65536, 65536))
                        .addLast("upstream", new UpstreamHandler(UpstreamPool.this));
                  }
                });
  }

  EventLoop loop() {
    return loop;
  }

  /**
   * An open connection: an idle one when available, else a new one.
   *
   * @param fresh {@code true} to skip idle connections (a retry after a stale one failed)
   */
  Future<Channel> acquire(boolean fresh) {
    if (!fresh) {
      Channel ch;
      while ((ch = idle.pollLast()) != null) {
        if (ch.isActive()) {
          return loop.newSucceededFuture(ch);
        }
      }
    }
    Promise<Channel> promise = loop.newPromise();
    ChannelFuture connect = bootstrap.connect();
    connect.addListener(
        f -> {
          if (!f.isSuccess()) {
            promise.setFailure(f.cause());
            return;
          }
          SslHandler tls = connect.channel().pipeline().get(SslHandler.class);
          if (tls == null) {
            promise.setSuccess(connect.channel());
            return;
          }
          // An https upstream is usable once its certificate is verified: a failed handshake is a
          // failed connect (502 with the reason), never a request sent to an unverified peer.
          tls.handshakeFuture().addListener(h -> {
            if (h.isSuccess()) {
              promise.setSuccess(connect.channel());
            } else {
              connect.channel().close();
              promise.setFailure(new javax.net.ssl.SSLException(
                  "TLS handshake failed: " + dev.sluice.gateway.tls.ListenerTls.reason(h.cause()), h.cause()));
            }
          });
        });
    return promise;
  }

  /** Returns a connection whose last exchange completed cleanly; it is kept if there is room. */
  void release(Channel ch) {
    if (!closed && ch.isActive() && idle.size() < maxIdle) {
      idle.addLast(ch);
    } else {
      ch.close();
    }
  }

  /** Forgets a connection that closed (called from its handler). */
  void remove(Channel ch) {
    idle.remove(ch);
  }

  /** Closes idle connections and refuses to keep more. */
  void close() {
    closed = true;
    Channel ch;
    while ((ch = idle.pollLast()) != null) {
      ch.close();
    }
  }

  int idleCount() {
    return idle.size();
  }
}
