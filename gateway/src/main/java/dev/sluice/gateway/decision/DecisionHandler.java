package dev.sluice.gateway.decision;

import dev.sluice.config.HeaderStyle;
import dev.sluice.engine.Decision;
import dev.sluice.engine.Engine;
import dev.sluice.gateway.accesslog.AccessLog;
import dev.sluice.gateway.response.Problems;
import dev.sluice.gateway.response.RateLimitHeaders;
import dev.sluice.gateway.response.Refusals;
import dev.sluice.match.EncodedSlashes;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One decision API connection. Requests are answered one at a time in the order received (a
 * pipelined request waits while a Redis-backed decision is in flight), so answers never overtake
 * each other.
 *
 * <p>{@code /v1/decide}: parse ({@link DecideParser}), decide with the engine, then answer {@code
 * 200} with what the gateway would do — for a refusal the status, header fields and problem body
 * of {@link Refusals#of}, for an allowed request the fields of {@link RateLimitHeaders#apply} and,
 * when the decision holds {@code count:} reservations or {@code concurrency:} permits, a ticket.
 * {@code /v1/settle}: {@code 204}, or {@code 404} for an unknown or expired ticket.
 *
 * <p>Every method runs on the connection's event loop; a decision completing on a store thread is
 * handed back with {@code execute}.
 */
final class DecisionHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(DecisionHandler.class);
  private static final AsciiString JSON = AsciiString.cached("application/json");
  private static final String DECIDE = "/v1/decide";
  private static final String SETTLE = "/v1/settle";

  /** Per event loop thread: the request body is copied here for the parser, and allowed answers' fields built here. */
  private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[4096]);
  private static final ThreadLocal<HttpHeaders> FIELDS = ThreadLocal.withInitial(DefaultHttpHeaders::new);

  /** What every connection shares. */
  record Shared(Engine engine, HeaderStyle headerStyle, EncodedSlashes encodedSlashes, Tickets tickets,
      AccessLog access) {}

  private final Shared shared;
  private final ArrayDeque<FullHttpRequest> queue = new ArrayDeque<>(2);
  private ChannelHandlerContext ctx;
  private boolean busy;
  private boolean closed;

  DecisionHandler(Shared shared) {
    this.shared = shared;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof FullHttpRequest request) || closed) {
      ReferenceCountUtil.release(msg);
      return;
    }
    queue.add(request);
    next();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closed = true;
    FullHttpRequest r;
    while ((r = queue.poll()) != null) {
      r.release();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof IdleStateEvent) {
      if (!busy) {
        ctx.close();
      }
      return;
    }
    ctx.fireUserEventTriggered(event);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("decision API connection {} failed", ctx.channel().remoteAddress(), cause);
    ctx.close();
  }

  /** Starts the next queued request unless one is in progress. */
  private void next() {
    while (!busy && !closed) {
      FullHttpRequest request = queue.poll();
      if (request == null) {
        return;
      }
      busy = true;
      try {
        handle(request);
      } catch (RuntimeException e) {
        // Never a stack trace to the client, and the connection keeps serving.
        log.warn("decision API request failed", e);
        if (request.refCnt() == 0) {
          busy = false; // already answered
          continue;
        }
        answer(request, Problems.simple(HttpResponseStatus.INTERNAL_SERVER_ERROR,
            "the decision service failed on this request; see its log"));
      }
    }
  }

  private void handle(FullHttpRequest request) {
    if (request.decoderResult().isFailure()) {
      Throwable cause = request.decoderResult().cause();
      FullHttpResponse bad = Problems.badRequest("malformed HTTP request: "
          + (cause == null || cause.getMessage() == null ? "unreadable" : cause.getMessage()));
      bad.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      answer(request, bad);
      return;
    }
    String uri = request.uri();
    int q = uri.indexOf('?');
    String path = q < 0 ? uri : uri.substring(0, q);
    boolean decide = path.equals(DECIDE);
    if (!decide && !path.equals(SETTLE)) {
      answer(request, Problems.notFound("no such endpoint; the decision API has POST " + DECIDE + " and POST " + SETTLE));
      return;
    }
    if (!request.method().equals(HttpMethod.POST)) {
      answer(request, Problems.methodNotAllowed(path + " accepts POST only", "POST"));
      return;
    }
    String type = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
    if (type != null && !type.regionMatches(true, 0, "application/json", 0, 16)) {
      answer(request, Problems.simple(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE,
          "request: Content-Type " + type + " is not accepted; expected application/json"));
      return;
    }
    ByteBuf content = request.content();
    int length = content.readableBytes();
    byte[] scratch = SCRATCH.get();
    if (scratch.length < length) {
      scratch = new byte[Math.max(length, scratch.length * 2)];
      SCRATCH.set(scratch);
    }
    content.getBytes(content.readerIndex(), scratch, 0, length);
    if (decide) {
      decide(request, scratch, length);
    } else {
      settle(request, scratch, length);
    }
  }

  private void decide(FullHttpRequest request, byte[] json, int length) {
    DecideRequest view;
    try {
      InetAddress connectionPeer = ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
      view = DecideParser.decide(json, length, shared.encodedSlashes(), connectionPeer);
    } catch (BadInput e) {
      answer(request, Problems.badRequest(e.getMessage()));
      return;
    }
    CompletionStage<Decision> stage;
    try {
      Decision now = shared.engine().decideNow(view); // answered at once: no stage
      if (now != null) {
        decided(request, view, now, null);
        return;
      }
      stage = shared.engine().decide(view);
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    if (stage instanceof CompletableFuture<Decision> done && done.isDone() && !done.isCompletedExceptionally()) {
      decided(request, view, done.join(), null); // the memory store answers at once
      return;
    }
    EventLoop loop = ctx.channel().eventLoop();
    stage.whenComplete((d, error) -> {
      if (loop.inEventLoop()) {
        decidedLater(request, view, d, error);
      } else {
        loop.execute(() -> decidedLater(request, view, d, error));
      }
    });
  }

  /** A decision that completed on a store thread, back on the event loop; then the next request. */
  private void decidedLater(FullHttpRequest request, DecideRequest view, Decision d, Throwable error) {
    try {
      decided(request, view, d, error);
    } catch (RuntimeException e) {
      log.warn("decision API request failed", e);
      if (request.refCnt() > 0) {
        answer(request, Problems.simple(HttpResponseStatus.INTERNAL_SERVER_ERROR,
            "the decision service failed on this request; see its log"));
      } else {
        busy = false;
      }
    }
    next();
  }

  private void decided(FullHttpRequest request, DecideRequest view, Decision d, Throwable error) {
    if (closed) {
      request.release();
      if (d != null) {
        d.release(); // nobody will settle it
      }
      busy = false;
      return;
    }
    FullHttpResponse refusal;
    if (error != null || d == null) {
      log.warn("rate-limit decision for {} {} failed", view.method, view.path, error);
      refusal = Refusals.decisionFailed();
    } else {
      refusal = Refusals.of(d, shared.headerStyle(), ctx.alloc());
    }
    if (shared.access() != null) {
      shared.access().log(AccessLog.VIA_DECISION, shared.access().wallClock().instant(), view, d, false,
          refusal != null ? refusal.status().code() : 200, AccessLog.NOT_FORWARDED);
    }
    ByteBuf body;
    if (refusal != null) {
      if (d != null) {
        d.release(); // a refusal holds nothing (the engine settled it); releasing is a no-op kept for safety
      }
      try {
        body = DecisionAnswer.write(ctx.alloc(), false, refusal.status().code(), refusal.headers(), refusal.content(),
            null);
      } finally {
        refusal.release();
      }
    } else {
      HttpHeaders fields = FIELDS.get();
      fields.clear();
      RateLimitHeaders.apply(shared.headerStyle(), d, fields);
      String ticket = d.holdsResources() ? shared.tickets().issue(d) : null;
      body = DecisionAnswer.write(ctx.alloc(), true, 200, fields, null, ticket);
      fields.clear();
    }
    answer(request, json(HttpResponseStatus.OK, body));
  }

  private void settle(FullHttpRequest request, byte[] json, int length) {
    DecideParser.Settle settle;
    try {
      settle = DecideParser.settle(json, length);
    } catch (BadInput e) {
      answer(request, Problems.badRequest(e.getMessage()));
      return;
    }
    Tickets.Settled result = shared.tickets().settle(settle.ticket(), settle.status());
    if (result == Tickets.Settled.UNKNOWN) {
      answer(request, Problems.notFound("ticket: unknown, expired or already settled"
          + " (an unsettled ticket expires after decision.ticket_lease)"));
      return;
    }
    FullHttpResponse ok = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT);
    answer(request, ok);
  }

  private static FullHttpResponse json(HttpResponseStatus status, ByteBuf body) {
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, JSON);
    return response;
  }

  /** Writes the answer to {@code request} (and releases it); the next queued request may start. */
  private void answer(FullHttpRequest request, FullHttpResponse response) {
    boolean keepAlive = HttpUtil.isKeepAlive(request) && !response.headers().contains(
        HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE, true);
    boolean http10 = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
    request.release();
    if (response.status().code() != 204) {
      HttpUtil.setContentLength(response, response.content().readableBytes());
    }
    busy = false;
    if (keepAlive) {
      if (http10) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      }
      ctx.writeAndFlush(response);
    } else {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
