package dev.sluice.gateway.decision;

import dev.sluice.config.DecisionSettings;
import dev.sluice.config.HeaderStyle;
import dev.sluice.engine.Engine;
import dev.sluice.gateway.accesslog.AccessLog;
import dev.sluice.gateway.edge.LingeringClose;
import dev.sluice.gateway.proxy.Drain;
import dev.sluice.gateway.response.Problems;
import dev.sluice.gateway.transport.Transports;
import dev.sluice.match.EncodedSlashes;
import dev.sluice.time.Clock;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The decision API's listener ({@code decision.listen}, SPEC §8): HTTP/1.1 with keep-alive,
 * {@code POST /v1/decide} and {@code POST /v1/settle}, deciding with the engine it is given (the
 * gateway's, so both share policies, buckets, bans, metrics and the audit log, and a reload
 * applies to both).
 *
 * <p>Limits: request line {@value #MAX_INITIAL_LINE} bytes, header section {@value
 * #MAX_HEADER_SIZE} bytes, JSON body {@value #MAX_BODY} bytes (larger: {@code 413}); a connection
 * idle for {@value #IDLE_SECONDS} s is closed. Open tickets are swept every {@value
 * Tickets#SWEEP_MILLIS} ms on one event loop.
 *
 * <p>Thread-safe; runs on the caller's event loop group.
 */
public final class DecisionServer implements AutoCloseable {
  static final int MAX_INITIAL_LINE = 4096;
  static final int MAX_HEADER_SIZE = 16384;
  /** Largest {@code /v1/decide} body: room for 16 KiB of {@code body} fields plus the request's headers. */
  static final int MAX_BODY = 64 * 1024;
  static final int IDLE_SECONDS = 75;

  private final Channel serverChannel;
  private final Tickets tickets;
  private final ScheduledFuture<?> sweep;

  private DecisionServer(Channel serverChannel, Tickets tickets, ScheduledFuture<?> sweep) {
    this.serverChannel = serverChannel;
    this.tickets = tickets;
    this.sweep = sweep;
  }

  /**
   * Binds {@code settings.listen()} and starts answering.
   *
   * @param engine decides every request (any version: decisions follow reloads)
   * @param headerStyle which rate-limit fields the answers carry ({@code headers:})
   * @param encodedSlashes {@code gateway.encoded_slashes}, so paths normalise as in the gateway
   * @param clock ticket leases are measured on it
   * @param drain where this listener's connections are tracked for a graceful stop
   * @param access the access log ({@code via="decision"}, the decision's status), or null when off
   * @throws IllegalStateException when the address cannot be bound (the cause is the bind error)
   */
  public static DecisionServer start(DecisionSettings settings, Engine engine, HeaderStyle headerStyle,
      EncodedSlashes encodedSlashes, EventLoopGroup group, Clock clock, Drain drain, AccessLog access) {
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(drain, "drain");
    Tickets tickets = new Tickets(clock, settings.ticketLease());
    DecisionHandler.Shared shared = new DecisionHandler.Shared(engine,
        headerStyle == null ? HeaderStyle.IETF : headerStyle, encodedSlashes, tickets, access);
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(group)
        .channel(Transports.serverChannel(group))
        .option(ChannelOption.SO_BACKLOG, 1024)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            Transports.guard(ch);
            ch.pipeline()
                .addLast("idle", new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS))
                .addLast("codec", new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADER_SIZE, 8192))
                .addLast("drain", drain.tracker())
                .addLast("aggregator", new Aggregator())
                .addLast("decision", new DecisionHandler(shared));
          }
        });
    ChannelFuture bound = bootstrap.bind(settings.listen()).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      Throwable cause = bound.cause();
      throw new IllegalStateException("cannot listen on " + settings.listen().getHostString() + ":"
          + settings.listen().getPort() + " (decision.listen): "
          + (cause == null ? "unknown error" : cause.getMessage()), cause);
    }
    ScheduledFuture<?> sweep = group.next().scheduleWithFixedDelay(
        tickets::expire, Tickets.SWEEP_MILLIS, Tickets.SWEEP_MILLIS, TimeUnit.MILLISECONDS);
    return new DecisionServer(bound.channel(), tickets, sweep);
  }

  /** The bound address (the real port when configured with port 0). */
  public InetSocketAddress address() {
    return (InetSocketAddress) serverChannel.localAddress();
  }

  /** Tickets waiting for their settle (racy; for tests and operators). */
  public int openTickets() {
    return tickets.size();
  }

  /** Ends every ticket whose lease has passed now, rather than at the next sweep; returns how many. */
  public int expireTickets() {
    return tickets.expire();
  }

  /** Stops accepting connections (the shared drain closes the open ones as their answers end). */
  public void stopAccepting() {
    serverChannel.close().awaitUninterruptibly();
  }

  /** Stops accepting and ends every open ticket (permits back). Idempotent. */
  @Override
  public void close() {
    sweep.cancel(false);
    serverChannel.close().awaitUninterruptibly();
    tickets.releaseAll();
  }

  /** An aggregator whose oversize answer is problem+json like every other answer. */
  private static final class Aggregator extends HttpObjectAggregator {
    Aggregator() {
      super(MAX_BODY);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
      FullHttpResponse response = Problems.simple(
          io.netty.handler.codec.http.HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
          "request: the JSON body is larger than " + MAX_BODY + " bytes");
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      // The body is still arriving: closing now would reset the connection before the client
      // reads the 413 (the aggregator discards the rest of the body meanwhile).
      LingeringClose.after(ctx.writeAndFlush(response));
    }
  }
}
