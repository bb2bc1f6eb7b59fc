package dev.sluice.gateway.proxy;

import dev.sluice.engine.Decision;
import dev.sluice.gateway.edge.ProxyProtocol;
import dev.sluice.gateway.response.EncodedResponse;
import dev.sluice.gateway.response.Problems;
import dev.sluice.gateway.response.RateLimitHeaders;
import dev.sluice.gateway.response.Refusals;
import dev.sluice.gateway.tunnel.Upgrades;
import dev.sluice.request.RequestView;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request on a client connection and its response: decided, then answered locally or
 * forwarded upstream, with the request body and the response streaming through ({@link
 * ClientHandler} owns the connection and starts one exchange at a time).
 *
 * <p>Body identities ({@code body:<field>}): when {@code PolicySet.needsBody} says a route's
 * policies read the body, the exchange first buffers the body's start ({@link
 * RequestView#BODY_PREFIX_LIMIT}, 16 KiB, plus at most the rest of the decoder chunk that crossed
 * it) before deciding, with reads on; the engine sees it through {@link RequestView#bodyPrefix()}.
 * The buffered chunks are then forwarded first and the rest streams as usual. A longer body is
 * decided on its prefix alone (the identity resolver treats a truncated prefix as no identity).
 *
 * <p>Lifecycle ({@code count:}, {@code concurrency:}, {@code max_inflight}): the upstream's
 * response status goes to {@link Decision#onResponse(int)} when its head arrives, and {@link
 * #end()} — {@link Decision#release()} plus the in-flight slot — runs exactly once when the
 * exchange ends for any reason: the response fully written (or failed to write), a local answer
 * (429/403/502/503/504), the client gone mid-request or mid-response, or a decision that arrives
 * after the client left.
 *
 * <p>Heads are forwarded in wire form: the request head by {@link UpstreamRequestHead}, the
 * response head by {@link ClientResponseHead} (byte for byte what Netty's encoders wrote for the
 * objects they replace); the rare responses those leave out are still built as objects here.
 *
 * <p>WebSocket ({@link Upgrades}): an upgrade is decided like any request and forwarded with its
 * {@code Upgrade} on a fresh upstream connection; on the upstream's {@code 101} the connection's
 * handler leaves the pipeline ({@link TunnelHandoff}) and the exchange ends when the tunnel closes,
 * so its {@code concurrency:} permits are held for the tunnel's life.
 *
 * <p>Threading: every method runs on the connection's event loop; the decision may complete on a
 * store thread and is handed back with {@code eventLoop().execute}.
 */
final class Exchange {
  private enum State {
    /** Reading the start of the body the policies identify by; reads stay on. */
    BUFFERING,
    /** Waiting for the engine. */
    DECIDING,
    /** Allowed; waiting for an upstream connection. */
    CONNECTING,
    /** Request head sent upstream; body and response streaming. */
    FORWARDING,
    /** The response is complete or answered locally; the rest of the request body is discarded. */
    DISCARDING
  }

  private static final Logger log = LoggerFactory.getLogger(Exchange.class);

  private final ClientHandler connection;
  private final ChannelHandlerContext ctx;
  private final ProxyContext shared;
  private final UpstreamPool pool;
  private final HttpRequest request;
  private final RequestTarget target;
  private final boolean head;
  private final boolean keepAlive;
  private final boolean hasBody;
  /** The request body is chunked (its end is a last chunk on the wire, not a byte count). */
  private final boolean chunked;
  private final boolean expectsContinue;
  /** A WebSocket upgrade: forwarded with its {@code Upgrade}, tunnelled on a {@code 101}. */
  private final boolean tunnel;
  /** The upstream's {@code 101} head, until its end arrives and the tunnel opens. */
  private HttpResponse switching;
  private State state = State.DECIDING;
  private Decision decision;
  /** Whether the request was prepared for the upstream (100-continue sent, peer trust known). */
  private boolean prepared;
  private boolean peerTrusted;
  private Channel upstream;
  private boolean upstreamReused;
  private boolean upstreamKeepAlive;
  private boolean retried;
  private boolean bodyForwarded;
  private boolean requestComplete;
  private boolean responseStarted;
  private boolean responseComplete;
  private boolean closeAfterResponse;
  private boolean skipInterim;
  private long discarded;
  private long sentNanos;
  private ScheduledFuture<?> timeout;
  /** The body's start read before deciding (body identities); null = none. */
  private BodyPrefix buffered;
  private boolean continueSent;
  /** Whether the exchange holds a {@code max_inflight} slot. */
  private boolean admitted;
  private boolean ended;
  /** The access log's view of the exchange: set once decided, told once (see {@link #completed}). */
  private NettyRequestView view;
  private long decidedAtMillis;
  private boolean shed;
  private boolean reported;

  Exchange(ClientHandler connection, ChannelHandlerContext ctx, ProxyContext shared, UpstreamPool pool,
      HttpRequest request, RequestTarget target) {
    this.connection = connection;
    this.ctx = ctx;
    this.shared = shared;
    this.pool = pool;
    this.request = request;
    this.target = target;
    this.head = request.method().equals(HttpMethod.HEAD);
    this.keepAlive = HttpUtil.isKeepAlive(request);
    this.chunked = HttpUtil.isTransferEncodingChunked(request);
    this.hasBody = chunked || HttpUtil.getContentLength(request, 0L) > 0;
    this.expectsContinue = HttpUtil.is100ContinueExpected(request);
    this.tunnel = Upgrades.isWebSocket(request);
  }

  boolean waiting() {
    return state == State.DECIDING || state == State.CONNECTING;
  }

  boolean wantsClientInput() {
    return switch (state) {
      case BUFFERING -> true;
      case DECIDING, CONNECTING -> false;
      case FORWARDING -> !requestComplete && upstream != null && upstream.isWritable();
      case DISCARDING -> !requestComplete;
    };
  }

  /** Whether the exchange is reading the body's start to decide on it (reads stay on). */
  boolean buffering() {
    return state == State.BUFFERING;
  }

  /** Whether a response (or part of one) was already given to the client. */
  boolean answered() {
    return responseStarted || responseComplete;
  }

  /** The client can take more: reads from the upstream resume (backpressure). */
  void clientWritable() {
    if (upstream != null) {
      upstream.config().setAutoRead(true);
    }
  }

  /** Decides at once, or first buffers the body's start when the route's policies read it. */
  void begin() {
    boolean needsBody;
    try {
      needsBody = shared.engine().policies().needsBody(request.method().name(), target.path());
    } catch (RuntimeException e) {
      log.warn("needsBody failed for {} {}", request.method(), target.path(), e);
      needsBody = false;
    }
    if (!needsBody) {
      decide(null);
    } else if (!hasBody) {
      decide(new byte[0]);
    } else {
      state = State.BUFFERING;
      buffered = new BodyPrefix();
      if (expectsContinue) {
        // The gateway must read the body to decide, so it invites the client to send it now.
        continueSent = true;
        ctx.writeAndFlush(
            new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER));
      }
    }
  }

  /** One more body chunk while buffering; decides once the prefix is full or the body ended. */
  private void buffer(HttpContent content, boolean last) {
    boolean enough = buffered.add(content);
    if (last) {
      requestComplete = true;
    }
    if (last || enough) {
      state = State.DECIDING;
      decide(buffered.bytes());
    }
  }

  private void releaseBuffered() {
    BodyPrefix chunks = buffered;
    buffered = null;
    if (chunks != null) {
      chunks.release();
    }
  }

  /**
   * The exchange is over for the engine and the in-flight cap: returns permits, refunds unsettled
   * count reservations, frees the {@code max_inflight} slot and buffered chunks. Exactly once;
   * later calls do nothing. Runs on the event loop.
   */
  void end() {
    if (ended) {
      return;
    }
    ended = true;
    completed(499); // the client left before any answer; a no-op when already told
    releaseBuffered();
    if (admitted) {
      admitted = false;
      shared.inflight().release();
    }
    if (decision != null) {
      decision.release();
    }
  }

  void decide(byte[] bodyPrefix) {
    InetSocketAddress peer = ProxyProtocol.peer(ctx.channel()); // the TCP peer, or what PROXY said
    NettyRequestView view =
        new NettyRequestView(request, target.path(), target.rawQuery(), peer.getAddress(), bodyPrefix);
    this.view = view;
    CompletionStage<Decision> stage;
    try {
      // The memory store answers at once, with shared decisions for the commonest answers.
      Decision now = shared.engine().decideNow(view);
      if (now != null) {
        decided(now, null);
        return;
      }
      stage = shared.engine().decide(view);
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    if (stage instanceof CompletableFuture<Decision> done && done.isDone() && !done.isCompletedExceptionally()) {
      // The memory store answers at once: no callback stage to build for every request.
      decided(done.join(), null);
      return;
    }
    EventLoop loop = ctx.channel().eventLoop();
    stage.whenComplete(
        (d, error) -> {
          if (loop.inEventLoop()) {
            decided(d, error);
          } else {
            loop.execute(() -> decided(d, error));
          }
        });
  }

  private void decided(Decision d, Throwable error) {
    if (!connection.owns(this) || ended) {
      // The client left while the engine decided: nothing will be forwarded.
      if (d != null) {
        d.release();
      }
      return;
    }
    decidedAtMillis = System.currentTimeMillis();
    if (error != null || d == null) {
      log.warn("rate-limit decision for {} {} failed", request.method(), target.path(), error);
      reject(Refusals.encodedDecisionFailed(ctx.alloc(), closesAfterAnswer()));
    } else {
      decision = d;
      // The decision API's answers in wire form (EncodedResponseTest: the same bytes).
      EncodedResponse refusal = Refusals.encoded(d, shared.headerStyle(), ctx.alloc(), closesAfterAnswer());
      if (refusal != null) {
        reject(refusal);
      } else {
        admit(d);
      }
    }
    connection.drain();
  }

  /** Takes a {@code max_inflight} slot for the request's priority and forwards it, or sheds it. */
  private void admit(Decision d) {
    if (!shared.inflight().tryAcquire(d.priority())) {
      if (shared.metrics() != null) {
        shared.metrics().shed(d.priority());
      }
      shed = true;
      reject(Refusals.encodedShed(d.priority().configName(), ctx.alloc(), closesAfterAnswer()));
      return;
    }
    admitted = true;
    // Kept until the upstream answers (RateLimit fields, settlement): numbers as of now, not live.
    decision = d.snapshot();
    connect(false);
  }

  private void connect(boolean fresh) {
    state = State.CONNECTING;
    if (!prepared) {
      prepared = true;
      peerTrusted = shared.engine().policies().identity().isTrustedProxy(
          ProxyProtocol.peer(ctx.channel()).getAddress());
      if (expectsContinue && hasBody && !continueSent) {
        // The gateway decided; the client may now send the body (the upstream never sees Expect).
        ctx.writeAndFlush(
            new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER));
      }
    }
    pool.acquire(fresh || tunnel).addListener(this::connected); // a tunnel never reuses a connection
  }

  private void connected(Future<? super Channel> future) {
    if (!connection.owns(this) || state != State.CONNECTING) {
      if (future.isSuccess()) {
        pool.release((Channel) future.getNow());
      }
      return;
    }
    if (!future.isSuccess()) {
      Throwable cause = future.cause();
      reject(
          Problems.badGateway(
              "cannot connect to the upstream " + shared.upstreamText() + ": "
                  + (cause == null ? "unknown error" : cause.getMessage())));
      connection.drain();
      return;
    }
    Channel ch = (Channel) future.getNow();
    upstreamReused = ch.pipeline().get(UpstreamHandler.class).attach(this);
    upstream = ch;
    state = State.FORWARDING;
    ch.config().setAutoRead(true);
    // The head in wire form (ForwardingHeaders' rules; UpstreamHeadsTest: the bytes Netty's encoder wrote).
    ch.write(UpstreamRequestHead.encode(ch.alloc(), request, target.originForm(), decision.client().forwardedFor(),
        peerTrusted, shared.tlsListener(), tunnel, shared.upstreamAuthority()))
        .addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
    if (buffered != null) {
      // The body's start, read to decide on; the upstream gets it first, then the rest streams.
      BodyPrefix chunks = buffered;
      buffered = null;
      bodyForwarded |= chunks.writeTo(ch);
    } else if (requestComplete) {
      // A retry of a body-less request whose end was already forwarded once.
      ch.write(LastHttpContent.EMPTY_LAST_CONTENT);
    }
    ch.flush();
    sentNanos = System.nanoTime();
    timeout = ch.eventLoop().schedule(this::timedOut, shared.upstreamTimeout().toNanos(), TimeUnit.NANOSECONDS);
    connection.drain();
  }

  void clientContent(HttpContent content) {
    if (content.decoderResult().isFailure()) {
      Throwable cause = content.decoderResult().cause();
      content.release();
      closeUpstream();
      if (!responseStarted && !responseComplete) {
        connection.answerAndClose(Problems.badRequest(RequestConformance.malformedBody(cause)));
      } else {
        connection.closeClient();
      }
      return;
    }
    boolean last = content instanceof LastHttpContent;
    if (state == State.BUFFERING) {
      buffer(content, last);
      return;
    }
    if (state == State.FORWARDING && upstream != null) {
      if (last && !chunked && !content.content().isReadable()) {
        // The end of a body framed by its length (or of none) is no bytes on the wire: nothing to
        // write or flush, as for most requests (a GET's empty last content).
        content.release();
      } else {
        bodyForwarded |= content.content().isReadable();
        upstream.writeAndFlush(content).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
      }
    } else {
      discarded += content.content().readableBytes();
      content.release();
      if (discarded > ClientHandler.DRAIN_LIMIT) {
        connection.closeClient();
        return;
      }
    }
    if (last) {
      requestComplete = true;
      if (responseComplete && !connection.closing()) {
        connection.finished(this);
      }
    }
  }

  /** Whether the request has been read to its end (its body forwarded or discarded). */
  boolean requestComplete() {
    return requestComplete;
  }

  /**
   * Whether a local answer given now must close the connection: the client does not keep it
   * alive, or an unread body is too large to discard (or was never sent: {@code Expect}).
   */
  private boolean closesAfterAnswer() {
    return !keepAlive
        || (!requestComplete && hasBody
            && (expectsContinue || HttpUtil.getContentLength(request, -1L) > ClientHandler.DRAIN_LIMIT));
  }

  /**
   * Answers the request locally with one of Sluice's own answers in wire form (429, 403, 503),
   * built with {@code connection: close} exactly when {@link #closesAfterAnswer()}. Nothing
   * waits on the write of a kept connection: it goes with the void promise (a failure still
   * reaches {@code exceptionCaught}).
   */
  private void reject(EncodedResponse response) {
    cancelTimeout();
    completed(response.status());
    end();
    state = State.DISCARDING;
    responseComplete = true;
    if (head) {
      response.headOnly();
    }
    if (response.closes()) {
      connection.answerAndClose(response);
      return;
    }
    ctx.writeAndFlush(response, ctx.voidPromise());
    if (requestComplete) {
      connection.finished(this);
    }
  }

  /** Answers the request locally (502, 504); the upstream has not answered. */
  private void reject(FullHttpResponse response) {
    cancelTimeout();
    completed(response.status().code());
    end();
    state = State.DISCARDING;
    responseComplete = true;
    if (head) {
      FullHttpResponse bodyless = response.replace(Unpooled.EMPTY_BUFFER);
      response.release();
      response = bodyless;
    }
    if (closesAfterAnswer()) {
      connection.answerAndClose(response);
      return;
    }
    ctx.writeAndFlush(response);
    if (requestComplete) {
      connection.finished(this);
    }
  }

  void upstreamHead(HttpResponse response) {
    if (response.decoderResult().isFailure()) {
      Throwable cause = response.decoderResult().cause();
      closeUpstream();
      reject(Problems.badGateway("the upstream sent an invalid response: " + cause.getMessage()));
      connection.drain();
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
    completed(status);
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
    responseComplete = true;
    // Settled once the last byte is handed to the socket (or the write failed: client gone).
    written.addListener(f -> end());
    Channel up = upstream;
    upstream = null;
    UpstreamHandler.detach(up);
    if (requestComplete && upstreamKeepAlive && !tunnel) {
      up.config().setAutoRead(true);
      pool.release(up);
    } else {
      up.close();
    }
    if (closeAfterResponse) {
      connection.closeAfter(written);
      return;
    }
    if (requestComplete) {
      connection.finished(this);
    } else {
      state = State.DISCARDING;
      connection.drain();
    }
  }

  /**
   * The upstream switched to WebSocket: relays the {@code 101} and hands both connections to a
   * tunnel. The exchange ends (permits back) when the tunnel closes; its {@code max_inflight}
   * slot is returned now, as the request is answered.
   */
  private void switchProtocols() {
    HttpResponse response = switching;
    switching = null;
    decision.onResponse(101);
    if (shared.metrics() != null) {
      shared.metrics().upstreamResponse(101, System.nanoTime() - sentNanos);
    }
    completed(101);
    String upgrade = response.headers().get(HttpHeaderNames.UPGRADE);
    HttpHeaders headers = ForwardingHeaders.clientResponse(response.headers());
    Upgrades.keepUpgradeResponse(upgrade, headers);
    RateLimitHeaders.apply(shared.headerStyle(), decision, headers);
    responseStarted = true;
    responseComplete = true;
    if (admitted) {
      admitted = false;
      shared.inflight().release();
    }
    Channel up = upstream;
    upstream = null;
    UpstreamHandler.detach(up);
    connection.leave(); // the connection's handler is leaving the pipeline
    ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS,
        Unpooled.EMPTY_BUFFER, headers, io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE));
    TunnelHandoff.start(ctx.channel(), up, shared.tunnels(), this::end);
  }

  void upstreamWritabilityChanged() {
    connection.updateRead();
  }

  void upstreamClosed() {
    upstream = null;
    if (responseComplete || !connection.owns(this)) {
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
    reject(Problems.badGateway("the upstream " + shared.upstreamText() + " closed the connection before responding"));
    connection.drain();
  }

  private void timedOut() {
    if (!connection.owns(this) || responseStarted || responseComplete) {
      return;
    }
    closeUpstream(); // a late answer must not be read as the response to the next request
    reject(Problems.gatewayTimeout(
        "the upstream " + shared.upstreamText() + " did not respond within " + shared.upstreamTimeoutText()));
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
      if (!requestComplete && up.isActive()) {
        try {
          up.config().setOption(ChannelOption.SO_LINGER, 0);
        } catch (RuntimeException e) {
          log.debug("cannot set SO_LINGER 0 on {}; closing it normally", up, e);
        }
      }
      up.close();
    }
  }

  /**
   * Tells the exchange listener (access log) the status the client gets: once per decided
   * exchange; later calls, and calls before the decision arrived (a client that left while the
   * engine decided was never decided for), do nothing.
   */
  void completed(int status) {
    if (reported || view == null || decidedAtMillis == 0) {
      return;
    }
    reported = true;
    try {
      shared.exchanges().completed(view, decision, decidedAtMillis, shed, status,
          sentNanos == 0 ? -1 : System.nanoTime() - sentNanos);
    } catch (RuntimeException e) {
      log.warn("exchange listener failed", e);
    }
  }

  /** The client went away: an unfinished upstream exchange cannot be reused. */
  void abandon() {
    closeUpstream();
    end();
  }
}
