package dev.sluice.gateway.proxy;

import dev.sluice.engine.Decision;
import dev.sluice.gateway.edge.ProxyProtocol;
import dev.sluice.gateway.response.EncodedResponse;
import dev.sluice.gateway.response.Problems;
import dev.sluice.gateway.response.Refusals;
import dev.sluice.request.RequestView;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request on a client connection and its response: decided, then answered locally or
 * forwarded upstream by its {@link Forwarding}, with the request body and the response streaming
 * through ({@link ClientHandler} owns the connection and starts one exchange at a time).
 *
 * <p>Body identities ({@code body:<field>}): when {@code PolicySet.needsBody} says a route's
 * policies read the body, the exchange first buffers the body's start ({@link
 * RequestView#BODY_PREFIX_LIMIT}, 16 KiB, plus at most the rest of the decoder chunk that crossed
 * it) before deciding, with reads on; the engine sees it through {@link RequestView#bodyPrefix()}.
 * The buffered chunks are then forwarded first and the rest streams as usual. A longer body is
 * decided on its prefix alone (the identity resolver treats a truncated prefix as no identity).
 *
 * <p>Local answers: Sluice's own 429, 403 and 503 (refused, shed, or the decision failed) are
 * written in wire form ({@link Refusals}), and 502 or 504 when the upstream fails before
 * answering; the rest of the request body is then discarded, or the connection closes.
 *
 * <p>Lifecycle ({@code count:}, {@code concurrency:}, {@code max_inflight}): the upstream's
 * response status goes to {@link Decision#onResponse(int)} when its head arrives, and {@link
 * #end()} — {@link Decision#release()} plus the in-flight slot — runs exactly once when the
 * exchange ends for any reason: the response fully written (or failed to write), a local answer
 * (429/403/502/503/504), the client gone mid-request or mid-response, a WebSocket tunnel closed,
 * or a decision that arrives after the client left.
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
    /** Allowed: its {@link Forwarding} connects upstream, then the body and response stream. */
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
  private final boolean chunked;
  private final boolean expectsContinue;
  private State state = State.DECIDING;
  private Decision decision;
  /** The upstream half, made when the request is allowed; null = not forwarded. */
  private Forwarding forwarding;
  private boolean requestComplete;
  private boolean responseComplete;
  private long discarded;
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
  }

  boolean waiting() {
    return state == State.DECIDING || (state == State.FORWARDING && forwarding.connecting());
  }

  boolean wantsClientInput() {
    return switch (state) {
      case BUFFERING -> true;
      case DECIDING -> false;
      case FORWARDING -> !requestComplete && forwarding.upstreamWritable();
      case DISCARDING -> !requestComplete;
    };
  }

  /** Whether the exchange is reading the body's start to decide on it (reads stay on). */
  boolean buffering() {
    return state == State.BUFFERING;
  }

  /** Whether a response (or part of one) was already given to the client. */
  boolean answered() {
    return (forwarding != null && forwarding.responseStarted()) || responseComplete;
  }

  /** The client can take more: reads from the upstream resume (backpressure). */
  void clientWritable() {
    if (forwarding != null) {
      forwarding.clientWritable();
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

  /** The body's start read to decide on, handed over to go upstream first; null when none. */
  BodyPrefix takeBodyPrefix() {
    BodyPrefix chunks = buffered;
    buffered = null;
    return chunks;
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
    forwarding = new Forwarding(this, connection, ctx, shared, pool, request, target.originForm(),
        decision, head, keepAlive, chunked, hasBody);
    if (expectsContinue && hasBody && !continueSent) {
      // The gateway decided; the client may now send the body (the upstream never sees Expect).
      ctx.writeAndFlush(
          new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER));
    }
    state = State.FORWARDING;
    forwarding.connect(false);
  }

  void clientContent(HttpContent content) {
    if (content.decoderResult().isFailure()) {
      Throwable cause = content.decoderResult().cause();
      content.release();
      closeUpstream();
      if (!answered()) {
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
    if (state == State.FORWARDING && forwarding.upstreamOpen()) {
      forwarding.send(content, last);
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

  /** Whether the client has its whole response (forwarded or answered locally). */
  boolean responseComplete() {
    return responseComplete;
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
  void reject(FullHttpResponse response) {
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

  /**
   * The forwarded response is written to its end ({@code written}): the connection closes after
   * it ({@code close}), takes the next request, or first discards the rest of this request's body.
   */
  void responded(ChannelFuture written, boolean close) {
    responseComplete = true;
    if (close) {
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
   * The upstream switched to WebSocket: the request is answered, so its {@code max_inflight} slot
   * is returned now; the exchange ends (permits back) when the tunnel closes.
   */
  void switched() {
    responseComplete = true;
    if (admitted) {
      admitted = false;
      shared.inflight().release();
    }
  }

  /** Closes the upstream connection, if any (see {@link Forwarding#closeUpstream()}). */
  void closeUpstream() {
    if (forwarding != null) {
      forwarding.closeUpstream();
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
          forwarding == null ? -1 : forwarding.sinceSent());
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
