package dev.sluice.gateway.proxy;

import dev.sluice.gateway.edge.ClientTimeouts;
import dev.sluice.gateway.edge.LingeringClose;
import dev.sluice.gateway.response.EncodedResponse;
import dev.sluice.gateway.response.Problems;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: decides each request, then answers it or forwards it upstream.
 *
 * <p>Design. Requests on a connection are handled one at a time (an {@link Exchange}). Decoded
 * messages go through a small backlog so that nothing is processed while the exchange waits for
 * its decision or its upstream connection; during those waits {@code autoRead} is off, so the
 * backlog holds at most what one socket read produced — the gateway never buffers a body. Once
 * forwarding, request body chunks go straight to the upstream and response chunks straight to
 * the client, each direction pausing reads on the other side while the destination is not
 * writable (backpressure). A request the gateway answers itself has its body discarded up to
 * {@link #DRAIN_LIMIT} bytes, or the connection is closed: the decoder knows the body's framing,
 * so a body is never parsed as a next request.
 *
 * <p>What happens to one request — its decision, local answer or forwarding, lifecycle and
 * WebSocket upgrade — is the {@link Exchange}'s (and its {@link Forwarding}'s).
 *
 * <p>Threading: every method runs on the connection's event loop; the decision may complete on a
 * store thread and is handed back with {@code eventLoop().execute}.
 */
final class ClientHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ClientHandler.class);

  /** Largest body of a rejected request that is read and discarded to keep the connection. */
  static final int DRAIN_LIMIT = 64 * 1024;

  private final ProxyContext shared;
  private final ArrayDeque<HttpObject> backlog = new ArrayDeque<>();
  private final KeepAliveIdle idle = new KeepAliveIdle();
  private ChannelHandlerContext ctx;
  private UpstreamPool pool;
  private Exchange current;
  private boolean closing;
  private boolean draining;

  ClientHandler(ProxyContext shared) {
    this.shared = shared;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.pool = shared.pool(ctx.channel().eventLoop());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing || !(msg instanceof HttpObject object)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    backlog.add(object);
    drain();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Exchange exchange = current;
    if (exchange != null && ctx.channel().isWritable()) {
      exchange.clientWritable();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    releaseBacklog();
    Exchange exchange = current;
    current = null;
    if (exchange != null) {
      exchange.abandon();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof ClientTimeouts.Expired expired) {
      clientTooSlow(expired);
      return;
    }
    if (event instanceof IdleStateEvent) {
      // Only between requests, or while the gateway waits for a body to decide on: an exchange in
      // progress is bounded by the upstream timeout, a client that stalls its body by
      // body_timeout (ClientTimeouts).
      if (idle.closes(current != null && !current.buffering())) {
        closeClient();
      }
      return;
    }
    ctx.fireUserEventTriggered(event);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("client connection {} failed", ctx.channel().remoteAddress(), cause);
    closeClient();
  }

  /** Processes backlog messages until one must wait; re-entrant calls fold into the outer loop. */
  void drain() {
    if (draining) {
      return;
    }
    draining = true;
    try {
      while (!closing) {
        HttpObject msg = backlog.peek();
        if (msg == null) {
          break;
        }
        if (msg instanceof HttpRequest request) {
          if (current != null) {
            break; // a pipelined request waits until the previous response is complete
          }
          backlog.poll();
          start(request);
        } else {
          if (current != null && current.waiting()) {
            break;
          }
          backlog.poll();
          HttpContent content = (HttpContent) msg;
          if (current == null) {
            content.release();
          } else {
            current.clientContent(content);
          }
        }
      }
    } finally {
      draining = false;
    }
    updateRead();
  }

  void updateRead() {
    if (closing) {
      return;
    }
    boolean wanted = backlog.isEmpty() && (current == null || current.wantsClientInput());
    ctx.channel().config().setAutoRead(wanted);
  }

  private void releaseBacklog() {
    HttpObject msg;
    while ((msg = backlog.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
  }

  private void start(HttpRequest request) {
    if (request.decoderResult().isFailure()) {
      Throwable cause = request.decoderResult().cause();
      ReferenceCountUtil.release(request);
      answerAndClose(malformed(cause));
      return;
    }
    FullHttpResponse refusal = RequestConformance.refusal(request);
    if (refusal != null) {
      answerAndClose(refusal);
      return;
    }
    String framing = framingProblem(request);
    if (framing != null) {
      answerAndClose(Problems.badRequest(framing));
      return;
    }
    RequestTarget target;
    try {
      target = RequestTarget.parse(request.uri(), shared.encodedSlashes());
    } catch (IllegalArgumentException e) {
      answerAndClose(Problems.badRequest(e.getMessage()));
      return;
    }
    Exchange exchange = new Exchange(this, ctx, shared, pool, request, target);
    current = exchange;
    exchange.begin();
  }

  private static FullHttpResponse malformed(Throwable cause) {
    if (cause instanceof TooLongHttpHeaderException) {
      return Problems.headersTooLarge();
    }
    if (cause instanceof TooLongHttpLineException) {
      return Problems.badRequest(
          "the request line is longer than " + ProxyServer.MAX_INITIAL_LINE + " bytes");
    }
    String reason = cause == null || cause.getMessage() == null ? "unreadable request" : cause.getMessage();
    return Problems.badRequest("malformed HTTP request: " + reason);
  }

  /**
   * Framing rules Netty's decoder does not enforce, or a description of the violation. The
   * decoder already rejects invalid and duplicate {@code Content-Length} and (via {@link
   * StrictRequestDecoder}) {@code Content-Length} together with {@code Transfer-Encoding}.
   */
  static String framingProblem(HttpRequest request) {
    HttpHeaders headers = request.headers();
    // Looked up before listing: nearly every request has no Transfer-Encoding and one Host.
    List<String> encodings =
        headers.contains(HttpHeaderNames.TRANSFER_ENCODING) ? headers.getAll(HttpHeaderNames.TRANSFER_ENCODING) : List.of();
    if (!encodings.isEmpty()) {
      if (!request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
        return "Transfer-Encoding is not allowed in an " + request.protocolVersion() + " request";
      }
      String joined = String.join(", ", encodings);
      String[] codings = joined.split(",", -1);
      if (codings.length != 1 || !codings[0].trim().toLowerCase(Locale.ROOT).equals("chunked")) {
        return "Transfer-Encoding '" + joined + "' is not supported; expected exactly 'chunked'";
      }
    }
    int hosts = countValues(headers, HttpHeaderNames.HOST);
    if (request.protocolVersion().equals(HttpVersion.HTTP_1_1) && hosts != 1) {
      return "an HTTP/1.1 request needs exactly one Host header, got " + hosts;
    }
    if (hosts > 1) {
      return "the request has " + hosts + " Host headers; expected at most one";
    }
    return null;
  }

  private static int countValues(HttpHeaders headers, CharSequence name) {
    int n = 0;
    for (Iterator<? extends CharSequence> values = headers.valueCharSequenceIterator(name); values.hasNext(); values.next()) {
      n++;
    }
    return n;
  }

  /** Sends a gateway answer outside any exchange (bad request) and closes the connection. */
  void answerAndClose(FullHttpResponse response) {
    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    closeAfter(ctx.writeAndFlush(response));
  }

  /** {@link #answerAndClose(FullHttpResponse)} for an answer in wire form (with {@code connection: close}). */
  void answerAndClose(EncodedResponse response) {
    closeAfter(ctx.writeAndFlush(response));
  }

  /**
   * The client missed {@code header_timeout} or {@code body_timeout}: {@code 408} when nothing
   * was answered yet, else just close. An upstream exchange in progress is aborted, so the
   * upstream never sees the cut-off request as complete.
   */
  private void clientTooSlow(ClientTimeouts.Expired expired) {
    if (closing) {
      return;
    }
    Exchange exchange = current;
    if (exchange != null) {
      exchange.closeUpstream();
      if (exchange.answered()) {
        closeClient();
        return;
      }
      exchange.completed(HttpResponseStatus.REQUEST_TIMEOUT.code());
      exchange.end();
    }
    // A client that missed its deadline gets no lingering time.
    closeAfter(ctx.writeAndFlush(EncodedResponse.encode(Problems.requestTimeout(expired.detail()), true, ctx.alloc())),
        false);
  }

  void closeClient() {
    closing = true;
    releaseBacklog();
    Exchange exchange = current;
    if (exchange != null) {
      exchange.closeUpstream();
    }
    ctx.close();
  }

  /** The exchange is over (response written, request read): the next request may start. */
  void finished(Exchange exchange) {
    if (current == exchange) {
      current = null;
      drain();
    }
  }

  /** Whether {@code exchange} is the connection's current one and the connection stays open. */
  boolean owns(Exchange exchange) {
    return current == exchange && !closing;
  }

  /** Whether the connection is closing (nothing more is read or started). */
  boolean closing() {
    return closing;
  }

  /**
   * The last response ends the connection: it closes once {@code written} completes — lingering
   * ({@link LingeringClose}) while the client may still be sending: a request refused or
   * malformed before its end, or answered before its body was read.
   */
  void closeAfter(ChannelFuture written) {
    closeAfter(written, current == null || !current.requestComplete());
  }

  private void closeAfter(ChannelFuture written, boolean linger) {
    closing = true;
    releaseBacklog();
    if (linger) {
      LingeringClose.after(written);
    } else {
      written.addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** The connection became a tunnel: this handler leaves the pipeline and handles nothing more. */
  void leave() {
    current = null;
    closing = true;
    releaseBacklog();
  }
}
