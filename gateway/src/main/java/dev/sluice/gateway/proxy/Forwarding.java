package dev.sluice.gateway.proxy;

import dev.sluice.engine.Decision;
import dev.sluice.gateway.edge.ProxyProtocol;
import dev.sluice.gateway.response.Problems;
import dev.sluice.gateway.response.RateLimitHeaders;
import dev.sluice.gateway.tunnel.Upgrades;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upstream half of an {@link Exchange} the decision allowed: an upstream connection from the
 * {@link UpstreamPool}, the request head and body sent up, the response streamed back to the
 * client, each direction pausing reads on the other side while the destination is not writable
 * (backpressure). When the upstream fails before answering, the client gets the exchange's local
 * answer (502, 504) instead.
 *
 * <p>Heads are forwarded in wire form: the request head by {@link UpstreamRequestHead}, the
 * response head by {@link ClientResponseHead} (byte for byte what Netty's encoders wrote for the
 * objects they replace); the rare responses those leave out are still built as objects here.
 *
 * <p>WebSocket ({@link Upgrades}): an upgrade is forwarded with its {@code Upgrade} on a fresh
 * upstream connection; on the upstream's {@code 101} the connection's handler leaves the pipeline
 * ({@link TunnelHandoff}) and the exchange ends when the tunnel closes, so its {@code
 * concurrency:} permits are held for the tunnel's life.
 *
 * <p>One per allowed exchange, and itself the listener of its connection attempts: forwarding
 * makes no listener object for them.
 *
 * <p>Threading: every method runs on the client connection's event loop, where the upstream
 * connection is registered too.
 */
final class Forwarding implements GenericFutureListener<Future<? super Channel>> {
  private static final Logger log = LoggerFactory.getLogger(Forwarding.class);

  private final Exchange exchange;
  private final ClientHandler connection;
  private final ChannelHandlerContext ctx;
  private final ProxyContext shared;
  private final UpstreamPool pool;
  private final HttpRequest request;
  /** The request target as forwarded, {@code /path?query}. */
  private final String originForm;
  /** The exchange's decision, kept until the upstream answers (RateLimit fields, settlement). */
  private final Decision decision;
  private final boolean head;
  private final boolean keepAlive;
  /** The request body is chunked (its end is a last chunk on the wire, not a byte count). */
  private final boolean chunked;
  private final boolean hasBody;
  /** A WebSocket upgrade: forwarded with its {@code Upgrade}, tunnelled on a {@code 101}. */
  private final boolean tunnel;
  private final boolean peerTrusted;
  /** Waiting for an upstream connection. */
  private boolean connecting;
  /** The upstream's {@code 101} head, until its end arrives and the tunnel opens. */
  private HttpResponse switching;
  private Channel upstream;
  private boolean upstreamReused;
  private boolean upstreamKeepAlive;
  private boolean retried;
  private boolean bodyForwarded;
  private boolean responseStarted;
  private boolean closeAfterResponse;
  private boolean skipInterim;
  private long sentNanos;
  private ScheduledFuture<?> timeout;

  Forwarding(Exchange exchange, ClientHandler connection, ChannelHandlerContext ctx, ProxyContext shared,
      UpstreamPool pool, HttpRequest request, String originForm, Decision decision, boolean head,
      boolean keepAlive, boolean chunked, boolean hasBody) {
    this.exchange = exchange;
    this.connection = connection;
    this.ctx = ctx;
    this.shared = shared;
    this.pool = pool;
    this.request = request;
    this.originForm = originForm;
    this.decision = decision;
    this.head = head;
    this.keepAlive = keepAlive;
    this.chunked = chunked;
    this.hasBody = hasBody;
    this.tunnel = Upgrades.isWebSocket(request);
    this.peerTrusted = shared.engine().policies().identity().isTrustedProxy(
        ProxyProtocol.peer(ctx.channel()).getAddress());
  }

  /** Whether the request waits for an upstream connection. */
  boolean connecting() {
    return connecting;
  }

  /** Whether body chunks go to an upstream connection (else the exchange discards them). */
  boolean upstreamOpen() {
    return upstream != null;
  }

  /** Whether the upstream connection takes more of the body now. */
  boolean upstreamWritable() {
    return upstream != null && upstream.isWritable();
  }

  /** Whether the response head was given to the client. */
  boolean responseStarted() {
    return responseStarted;
  }

  /** Nanoseconds since the request was sent upstream, or -1 when it was not. */
  long sinceSent() {
    return sentNanos == 0 ? -1 : System.nanoTime() - sentNanos;
  }

  /** The client can take more: reads from the upstream resume (backpressure). */
  void clientWritable() {
    if (upstream != null) {
      upstream.config().setAutoRead(true);
    }
  }

  /** Asks the pool for a connection; {@code fresh} skips idle ones (a retry after a stale one). */
  void connect(boolean fresh) {
    connecting = true;
    pool.acquire(fresh || tunnel).addListener(this); // a tunnel never reuses a connection
  }

  /**
   * A connection attempt ended: the request head (and the body's start) go upstream and the
   * upstream timeout starts, or the client gets a 502.
   */
  @Override
  public void operationComplete(Future<? super Channel> future) {
    if (!connection.owns(exchange) || !exchange.waiting()) {
      if (future.isSuccess()) {
        pool.release((Channel) future.getNow());
      }
      return;
    }
    connecting = false;
    if (!future.isSuccess()) {
      Throwable cause = future.cause();
      answerLocally(
          Problems.badGateway(
              "cannot connect to the upstream " + shared.upstreamText() + ": "
                  + (cause == null ? "unknown error" : cause.getMessage())));
      return;
    }
    Channel ch = (Channel) future.getNow();
    upstreamReused = ch.pipeline().get(UpstreamHandler.class).attach(this);
    upstream = ch;
    ch.config().setAutoRead(true);
    // The head in wire form (ForwardingHeaders' rules; UpstreamHeadsTest: the bytes Netty's encoder wrote).
    ch.write(UpstreamRequestHead.encode(ch.alloc(), request, originForm, decision.client().forwardedFor(),
        peerTrusted, shared.tlsListener(), tunnel, shared.upstreamAuthority()))
        .addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
    BodyPrefix chunks = exchange.takeBodyPrefix();
    if (chunks != null) {
      // The body's start, read to decide on; the upstream gets it first, then the rest streams.
      bodyForwarded |= chunks.writeTo(ch);
    } else if (exchange.requestComplete()) {
      // A retry of a body-less request whose end was already forwarded once.
      ch.write(LastHttpContent.EMPTY_LAST_CONTENT);
    }
    ch.flush();
    sentNanos = System.nanoTime();
    timeout = ch.eventLoop().schedule(this::timedOut, shared.upstreamTimeout().toNanos(), TimeUnit.NANOSECONDS);
    connection.drain();
  }

  /** Sends a chunk of the request body upstream (its reference passes on or is released here). */
  void send(HttpContent content, boolean last) {
    if (last && !chunked && !content.content().isReadable()) {
      // The end of a body framed by its length (or of none) is no bytes on the wire: nothing to
      // write or flush, as for most requests (a GET's empty last content).
      content.release();
    } else {
      bodyForwarded |= content.content().isReadable();
      upstream.writeAndFlush(content).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
    }
  }

  void upstreamHead(HttpResponse response) {
    if (response.decoderResult().isFailure()) {
      Throwable cause = response.decoderResult().cause();
      closeUpstream();
      answerLocally(Problems.badGateway("the upstream sent an invalid response: " + cause.getMessage()));
      return;
    }
    int status = response.status().code();
    if (tunnel && status == 101) {
      cancelTimeout();
      switching = response; // the tunnel opens at the end of this head (upstreamContent)
      return;
    }
    if (status >= 100 && status < 200) {
      skipInterim = true; // interim responses (100, 103) are not relayed
      return;
    }
    cancelTimeout();
    decision.onResponse(status);
    if (shared.metrics() != null) {
      shared.metrics().upstreamResponse(status, System.nanoTime() - sentNanos);
    }
    exchange.completed(status);
    upstreamKeepAlive = HttpUtil.isKeepAlive(response);
    boolean http11 = request.protocolVersion().equals(HttpVersion.HTTP_1_1);
    boolean bodyless = head || status == 204 || status == 304;
    EncodedHead wire = ClientResponseHead.encode(ctx.alloc(), response, shared.headerStyle(), decision, bodyless,
        http11, keepAlive);
    if (wire != null) {
      // The head in wire form (UpstreamHeadsTest: the bytes the response object below encodes to).
      closeAfterResponse = wire.closes();
      responseStarted = true;
      ctx.write(wire);
      return;
    }
    HttpHeaders headers = ForwardingHeaders.clientResponse(response.headers());
    RateLimitHeaders.apply(shared.headerStyle(), decision, headers);
    HttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, response.status(), headers);
    if (!bodyless && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
      if (http11) {
        HttpUtil.setTransferEncodingChunked(out, true);
      } else {
        closeAfterResponse = true; // an HTTP/1.0 client learns the end of the body from the close
      }
    }
    if (!keepAlive || closeAfterResponse) {
      closeAfterResponse = true;
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (!http11) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    responseStarted = true;
    ctx.write(out);
  }

  void upstreamContent(HttpContent content) {
    if (switching != null) {
      content.release();
      if (content instanceof LastHttpContent) {
        switchProtocols();
      }
      return;
    }
    if (skipInterim) {
      content.release();
      if (content instanceof LastHttpContent) {
        skipInterim = false;
      }
      return;
    }
    if (content.decoderResult().isFailure() || !responseStarted) {
      // The upstream closed or broke framing mid-response: the client cannot get a whole
      // response any more, so its connection is closed too.
      content.release();
      connection.closeClient();
      return;
    }
    boolean last = content instanceof LastHttpContent;
    HttpContent out = content;
    if (head && !last) {
      content.release();
      return;
    }
    if (head) {
      content.release();
      out = LastHttpContent.EMPTY_LAST_CONTENT;
    }
    ChannelFuture written = ctx.writeAndFlush(out);
    if (!last) {
      if (!ctx.channel().isWritable() && upstream != null) {
        upstream.config().setAutoRead(false);
      }
      return;
    }
    // Settled once the last byte is handed to the socket (or the write failed: client gone).
    written.addListener(f -> exchange.end());
    Channel up = upstream;
    upstream = null;
    UpstreamHandler.detach(up);
    if (exchange.requestComplete() && upstreamKeepAlive && !tunnel) {
      up.config().setAutoRead(true);
      pool.release(up);
    } else {
      up.close();
    }
    exchange.responded(written, closeAfterResponse);
  }

  /**
   * The upstream switched to WebSocket: relays the {@code 101} and hands both connections to a
   * tunnel. The exchange ends (permits back) when the tunnel closes.
   */
  private void switchProtocols() {
    HttpResponse response = switching;
    switching = null;
    decision.onResponse(101);
    if (shared.metrics() != null) {
      shared.metrics().upstreamResponse(101, System.nanoTime() - sentNanos);
    }
    exchange.completed(101);
    String upgrade = response.headers().get(HttpHeaderNames.UPGRADE);
    HttpHeaders headers = ForwardingHeaders.clientResponse(response.headers());
    Upgrades.keepUpgradeResponse(upgrade, headers);
    RateLimitHeaders.apply(shared.headerStyle(), decision, headers);
    responseStarted = true;
    exchange.switched();
    Channel up = upstream;
    upstream = null;
    UpstreamHandler.detach(up);
    connection.leave(); // the connection's handler is leaving the pipeline
    ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS,
        Unpooled.EMPTY_BUFFER, headers, io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE));
    TunnelHandoff.start(ctx.channel(), up, shared.tunnels(), exchange::end);
  }

  void upstreamWritabilityChanged() {
    connection.updateRead();
  }

  void upstreamClosed() {
    upstream = null;
    if (exchange.responseComplete() || !connection.owns(exchange)) {
      return;
    }
    if (responseStarted) {
      connection.closeClient();
      return;
    }
    cancelTimeout();
    if (upstreamReused && !retried && !bodyForwarded && !hasBody) {
      // The upstream closed a keep-alive connection just as it was reused, before answering. A
      // body-less request is idempotent enough to send once more (RFC 9110 §9.2.2), though the
      // upstream may have run the first attempt: counted, so its hit count can be reconciled.
      retried = true;
      if (shared.metrics() != null) {
        shared.metrics().upstreamRetry();
      }
      connect(true);
      return;
    }
    answerLocally(
        Problems.badGateway("the upstream " + shared.upstreamText() + " closed the connection before responding"));
  }

  private void timedOut() {
    if (!connection.owns(exchange) || exchange.answered()) {
      return;
    }
    closeUpstream(); // a late answer must not be read as the response to the next request
    answerLocally(Problems.gatewayTimeout(
        "the upstream " + shared.upstreamText() + " did not respond within " + shared.upstreamTimeoutText()));
  }

  /** The upstream did not answer: the client gets the exchange's own answer instead. */
  private void answerLocally(FullHttpResponse response) {
    cancelTimeout();
    exchange.reject(response);
    connection.drain();
  }

  private void cancelTimeout() {
    if (timeout != null) {
      timeout.cancel(false);
      timeout = null;
    }
  }

  /**
   * Closes the upstream connection. While the request is incomplete the connection is reset
   * (SO_LINGER 0), not closed: after a clean close a server that reads a body until EOF would
   * take the part it got for the whole request.
   */
  void closeUpstream() {
    cancelTimeout();
    Channel up = upstream;
    upstream = null;
    if (up != null) {
      UpstreamHandler.detach(up);
      if (!exchange.requestComplete() && up.isActive()) {
        try {
          up.config().setOption(ChannelOption.SO_LINGER, 0);
        } catch (RuntimeException e) {
          log.debug("cannot set SO_LINGER 0 on {}; closing it normally", up, e);
        }
      }
      up.close();
    }
  }
}
