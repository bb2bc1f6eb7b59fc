package dev.sluice.gateway.admin;

import dev.sluice.engine.BanLifter;
import dev.sluice.engine.Engine;
import dev.sluice.gateway.live.LiveApi;
import dev.sluice.gateway.live.LiveView;
import dev.sluice.gateway.response.Problems;
import dev.sluice.gateway.transport.Transports;
import dev.sluice.policy.OnError;
import dev.sluice.store.Store;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin listener (SPEC §1, §3, §6): a small HTTP/1.1 server on its own address.
 *
 * <ul>
 *   <li>{@code GET /healthz}: {@code 200 ok} while the process serves requests.
 *   <li>{@code GET /readyz}: pings the store (at most {@link #PING_TIMEOUT}); {@code 200 ready}
 *       when it answers, {@code 200 degraded} when it fails under {@code on_error: allow} (requests
 *       are still admitted), {@code 503 not ready} when it fails under {@code on_error: deny}.
 *   <li>{@code GET /metrics}: the Prometheus text exposition of the registry.
 *   <li>{@code GET /v1/bans}, {@code POST /v1/bans}, {@code DELETE /v1/bans/{id}}: the ban API
 *       (see {@link BanApi}), when started with an engine.
 *   <li>{@code GET /v1/config}, {@code POST /v1/config/reload}, {@code POST /v1/config/rollback}:
 *       the config API (see {@link ConfigApi}), once {@link #configApi} gave it; behind the token.
 *   <li>{@code GET /v1/top}, {@code GET /v1/stats} (behind the token) and {@code GET /dashboard}:
 *       the live view (see {@link LiveApi}), once {@link #liveView} gave it.
 *   <li>after {@link #drain()}: {@code /readyz} answers {@code 503 draining}.
 *   <li>anything else: {@code 404} (or {@code 405} for a wrong method), problem+json.
 * </ul>
 *
 * <p>Authentication: when an admin token is configured ({@code gateway.admin_token_env}), the ban
 * API <b>and {@code /metrics}</b> require {@code Authorization: Bearer <token>}; otherwise {@code
 * 401} problem+json with {@code WWW-Authenticate: Bearer realm="sluice-admin"}. Metrics are
 * protected too because they reveal policy names and per-policy traffic; Prometheus sends the
 * token with {@code authorization: { credentials_file: ... }}. {@code /healthz} and {@code
 * /readyz} stay open for load balancers and orchestrators. The token is compared in constant time
 * (SHA-256 digests compared with {@link MessageDigest#isEqual}, so neither content nor length
 * leaks through timing).
 *
 * <p>Every {@code /v1/} request (the admin API, with or without a token) first passes the
 * {@link AdminRequestGuard}: one {@code Authorization}/{@code Host}/{@code Origin}/{@code
 * Content-Type} each, {@code Host} naming this listener, no foreign {@code Origin}, JSON bodies
 * only. Endpoints added under {@code /v1/} get these checks without doing anything.
 *
 * <p>The store ping never blocks the event loop: its stage completes on the store's thread (or a
 * timeout thread) and the response is written from the channel's event loop.
 */
public final class AdminServer implements AutoCloseable {

  /** How long {@code /readyz} waits for the store before calling it failed. */
  public static final Duration PING_TIMEOUT = Duration.ofSeconds(1);
  /** The content type of {@code /metrics} (Prometheus text format 0.0.4). */
  public static final String METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
  private static final int MAX_REQUEST_BYTES = 64 * 1024;

  private final Channel channel;
  private final AdminHooks hooks;
  private final AdminRequestGuard guard;

  private AdminServer(Channel channel, AdminHooks hooks, AdminRequestGuard guard) {
    this.channel = channel;
    this.hooks = hooks;
    this.guard = guard;
  }

  /** Serves the config API from now on (SPEC §9). */
  public void configApi(ConfigApi api) {
    hooks.config = api;
  }

  /**
   * Serves the live view from now on: {@code /v1/top}, {@code /v1/stats} (behind the guard) and
   * {@code /dashboard} (see {@link LiveApi}).
   *
   * @param view what the endpoints report
   * @param store the store whose health {@code /v1/stats} reports
   */
  public void liveView(LiveView view, Store store) {
    hooks.live = new LiveApi(view, store, () -> {
      ConfigApi config = hooks.config;
      return config == null ? null : config.current();
    }, guard.requiresToken());
  }

  /** {@code /readyz} answers {@code 503 draining} from now on, whatever the store says. */
  public void drain() {
    hooks.draining = true;
  }

  /**
   * Starts the admin listener with {@code store.on_error: allow} semantics for {@code /readyz}.
   *
   * @see #start(InetSocketAddress, PrometheusMeterRegistry, Store, EventLoopGroup, OnError)
   */
  public static AdminServer start(InetSocketAddress address, PrometheusMeterRegistry registry, Store store,
      EventLoopGroup group) {
    return start(address, registry, store, group, OnError.ALLOW);
  }

  /**
   * Binds the admin listener and returns once it accepts connections.
   *
   * @param address where to listen (port 0 picks a free port; see {@link #address()})
   * @param registry the registry {@code /metrics} exposes
   * @param store the store {@code /readyz} pings
   * @param group the event loop group to accept and serve on (NIO or epoll)
   * @param storeOnError the store's {@code on_error}, deciding whether a failing store is
   *     {@code degraded} (allow) or {@code not ready} (deny)
   * @throws IllegalStateException when the address cannot be bound (message names the address)
   */
  public static AdminServer start(InetSocketAddress address, PrometheusMeterRegistry registry, Store store,
      EventLoopGroup group, OnError storeOnError) {
    return start(address, registry, store, group, storeOnError, null, InstantSource.system(), Optional.empty());
  }

  /**
   * Binds the admin listener with the ban API and optional bearer-token authentication.
   *
   * @param engine whose {@link Engine#bans()} the ban API reads and writes, and whose policies
   *     ({@link Engine#policies()}) name the valid scopes and resolve identities; null = no ban API
   *     ({@code /v1/*} answers 404)
   * @param wallClock ban expiry times ({@code expires_at}, {@code remaining_seconds})
   * @param adminToken the bearer token the ban API and {@code /metrics} require; empty = none
   * @throws IllegalStateException when the address cannot be bound (message names the address)
   * @see #start(InetSocketAddress, PrometheusMeterRegistry, Store, EventLoopGroup, OnError)
   */
  public static AdminServer start(InetSocketAddress address, PrometheusMeterRegistry registry, Store store,
      EventLoopGroup group, OnError storeOnError, Engine engine, InstantSource wallClock,
      Optional<String> adminToken) {
    return start(address, registry, store, group, storeOnError, engine, wallClock,
        new AdminRequestGuard(adminToken, List.of()));
  }

  /**
   * Binds the admin listener with the ban API behind {@code guard} (token, {@code Host},
   * {@code Origin}, content type: see {@link AdminRequestGuard}).
   *
   * @param guard the checks every {@code /v1/} request passes; its token also protects {@code /metrics}
   * @throws IllegalStateException when the address cannot be bound (message names the address)
   * @see #start(InetSocketAddress, PrometheusMeterRegistry, Store, EventLoopGroup, OnError, Engine,
   *     InstantSource, Optional)
   */
  public static AdminServer start(InetSocketAddress address, PrometheusMeterRegistry registry, Store store,
      EventLoopGroup group, OnError storeOnError, Engine engine, InstantSource wallClock,
      AdminRequestGuard guard) {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(guard, "guard");
    Objects.requireNonNull(wallClock, "wallClock");
    Objects.requireNonNull(store, "store");
    BanApi bans = engine == null ? null
        : new BanApi(engine.bans(), engine::policies, wallClock, new BanLifter(engine.bans(), store));
    Objects.requireNonNull(storeOnError, "storeOnError");
    AdminHooks hooks = new AdminHooks();
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(group)
        .channel(Transports.serverChannel(group))
        .option(ChannelOption.SO_REUSEADDR, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            Transports.guard(ch);
            ch.pipeline()
                // An idle admin connection holds nothing useful; drop it after a minute.
                .addLast(new IdleStateHandler(0, 0, 60, TimeUnit.SECONDS) {
                  @Override
                  protected void channelIdle(ChannelHandlerContext ctx, io.netty.handler.timeout.IdleStateEvent evt) {
                    ctx.close();
                  }
                })
                .addLast(new HttpServerCodec())
                .addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES))
                .addLast(new Handler(registry, store, storeOnError, bans, guard, hooks));
          }
        });
    try {
      Channel channel = bootstrap.bind(address).sync().channel();
      return new AdminServer(channel, hooks, guard);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while binding the admin listener to " + address, e);
    } catch (RuntimeException e) {
      throw new IllegalStateException("cannot bind the admin listener to " + address + ": " + e.getMessage(), e);
    }
  }

  /** The bound address (with the real port when started on port 0). */
  public InetSocketAddress address() {
    return (InetSocketAddress) channel.localAddress();
  }

  /** Stops accepting connections and waits for the listening socket to close. Idempotent. */
  @Override
  public void close() {
    channel.close().syncUninterruptibly();
  }

  /** One per connection: its only state is the order of pending responses. */
  private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final PrometheusMeterRegistry registry;
    private final Store store;
    private final OnError storeOnError;
    private final BanApi bans;
    private final AdminRequestGuard guard;
    private final AdminHooks hooks;
    /** Completes when every response queued so far is written; touched on the event loop only. */
    private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);

    Handler(PrometheusMeterRegistry registry, Store store, OnError storeOnError, BanApi bans,
        AdminRequestGuard guard, AdminHooks hooks) {
      this.hooks = hooks;
      this.bans = bans;
      this.guard = guard;
      this.registry = registry;
      this.store = store;
      this.storeOnError = storeOnError;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      boolean head = request.method().equals(HttpMethod.HEAD);
      if (!request.decoderResult().isSuccess()) {
        send(ctx, Problems.badRequest("The admin listener could not parse the request."), false, false);
        return;
      }
      QueryStringDecoder target = new QueryStringDecoder(request.uri());
      String path = target.path();
      if (path.equals("/v1") || path.startsWith("/v1/")) {
        // The admin API: every endpoint, present and future, behind the same guard.
        FullHttpResponse refused = guard.check(request, ctx.channel().localAddress());
        if (refused != null) {
          send(ctx, refused, keepAlive, head);
          return;
        }
      } else if (path.equals("/metrics")) {
        FullHttpResponse refused = guard.checkToken(request);
        if (refused != null) {
          send(ctx, refused, keepAlive, head);
          return;
        }
      }
      LiveApi live = hooks.live;
      if (live != null && LiveApi.owns(path)) {
        reply(ctx, live.handle(request.method(), target), keepAlive, head);
        return;
      }
      boolean banPath = bans != null && (path.equals("/v1/bans") || path.startsWith("/v1/bans/"));
      ConfigApi config = hooks.config;
      boolean configPath = config != null && ConfigApi.owns(path);
      if (banPath) {
        bans(ctx, request, target, keepAlive, head);
        return;
      }
      if (configPath) {
        config(ctx, request, config, path, keepAlive, head);
        return;
      }
      boolean known = path.equals("/healthz") || path.equals("/readyz") || path.equals("/metrics");
      if (!known) {
        send(ctx, Problems.notFound("No admin resource at \"" + path + "\"; try /metrics, /healthz or /readyz."),
            keepAlive, head);
        return;
      }
      if (!head && !request.method().equals(HttpMethod.GET)) {
        send(ctx, Problems.methodNotAllowed("Method " + request.method() + " is not allowed on " + path
            + "; expected GET or HEAD.", "GET, HEAD"), keepAlive, false);
        return;
      }
      switch (path) {
        case "/healthz" -> send(ctx, text(HttpResponseStatus.OK, "ok"), keepAlive, head);
        case "/metrics" -> {
          FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
              Unpooled.copiedBuffer(registry.scrape(), StandardCharsets.UTF_8));
          response.headers().set(HttpHeaderNames.CONTENT_TYPE, METRICS_CONTENT_TYPE);
          send(ctx, response, keepAlive, head);
        }
        default -> readyz(ctx, keepAlive, head);
      }
    }

    private void bans(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder target,
        boolean keepAlive, boolean head) {
      String path = target.path();
      HttpMethod method = request.method();
      if (path.equals("/v1/bans")) {
        if (method.equals(HttpMethod.GET) || head) {
          reply(ctx, bans.list(), keepAlive, head);
        } else if (method.equals(HttpMethod.POST)) {
          reply(ctx, bans.create(request.content()), keepAlive, false);
        } else {
          send(ctx, Problems.methodNotAllowed("Method " + method + " is not allowed on /v1/bans; expected GET or POST.",
              "GET, HEAD, POST"), keepAlive, false);
        }
        return;
      }
      String id = path.substring("/v1/bans/".length());
      if (method.equals(HttpMethod.DELETE)) {
        reply(ctx, bans.delete(id, target.parameters()), keepAlive, false);
      } else {
        send(ctx, Problems.methodNotAllowed("Method " + method + " is not allowed on " + path + "; expected DELETE.",
            "DELETE"), keepAlive, false);
      }
    }

    private void config(ChannelHandlerContext ctx, FullHttpRequest request, ConfigApi config, String path,
        boolean keepAlive, boolean head) {
      HttpMethod method = request.method();
      boolean get = method.equals(HttpMethod.GET) || head;
      switch (path) {
        case "/v1/config" -> {
          if (get) {
            reply(ctx, config.show(), keepAlive, head);
          } else {
            send(ctx, Problems.methodNotAllowed("Method " + method + " is not allowed on " + path
                + "; expected GET.", "GET, HEAD"), keepAlive, false);
          }
        }
        case "/v1/config/reload", "/v1/config/rollback" -> {
          if (!method.equals(HttpMethod.POST)) {
            send(ctx, Problems.methodNotAllowed("Method " + method + " is not allowed on " + path
                + "; expected POST.", "POST"), keepAlive, false);
          } else if (path.endsWith("/reload")) {
            reply(ctx, config.reload(), keepAlive, false);
          } else {
            reply(ctx, config.rollback(request.content()), keepAlive, false);
          }
        }
        default -> send(ctx, Problems.notFound("No admin resource at \"" + path
            + "\"; try /v1/config, /v1/config/reload or /v1/config/rollback."), keepAlive, head);
      }
    }

    private void readyz(ChannelHandlerContext ctx, boolean keepAlive, boolean head) {
      if (hooks.draining) {
        send(ctx, text(HttpResponseStatus.SERVICE_UNAVAILABLE, "draining"), keepAlive, head);
        return;
      }
      CompletableFuture<Void> ping;
      try {
        ping = store.ping().toCompletableFuture().orTimeout(PING_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (RuntimeException e) {
        ping = CompletableFuture.failedFuture(e);
      }
      reply(ctx, ping.handle((ok, failure) -> {
        if (failure == null) {
          return text(HttpResponseStatus.OK, "ready");
        }
        return storeOnError == OnError.ALLOW
            ? text(HttpResponseStatus.OK, "degraded")
            : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "not ready");
      }), keepAlive, head);
    }

    private void send(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive, boolean head) {
      reply(ctx, CompletableFuture.completedFuture(response), keepAlive, head);
    }

    /**
     * Writes {@code response} once it and every earlier response of this connection are written,
     * so pipelined requests are answered in order even while a {@code /readyz} ping is pending.
     * Called on the event loop only; the write itself always runs there (handlers are not
     * thread-safe).
     */
    private void reply(ChannelHandlerContext ctx, CompletableFuture<FullHttpResponse> response, boolean keepAlive,
        boolean head) {
      if (tail.isDone() && response.isDone()) {
        write(ctx, response.join(), keepAlive, head);
        return;
      }
      CompletableFuture<Void> written = new CompletableFuture<>();
      tail.thenCombine(response, (previous, next) -> next)
          .thenAccept(next -> ctx.executor().execute(() -> {
            write(ctx, next, keepAlive, head);
            written.complete(null);
          }));
      tail = written;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("admin connection failed: {}", cause.toString());
      ctx.close();
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
      FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
          Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
      response.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
      return response;
    }

    private static void write(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive, boolean head) {
      if (response.status().code() != HttpResponseStatus.NO_CONTENT.code()) {
        // RFC 9110 §8.6: a 204 carries no Content-Length.
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
      }
      if (head) {
        // HEAD: same headers, no body.
        response.content().clear();
      }
      if (keepAlive) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        ctx.writeAndFlush(response);
      } else {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
      }
    }
  }
}
