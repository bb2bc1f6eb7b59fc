package dev.sluice.gateway.proxy;

import dev.sluice.config.HeaderStyle;
import dev.sluice.config.EdgeSettings;
import dev.sluice.engine.Engine;
import dev.sluice.gateway.edge.ClientTimeouts;
import dev.sluice.gateway.edge.ConnectionCaps;
import dev.sluice.gateway.edge.EdgeMetrics;
import dev.sluice.gateway.edge.ProxyProtocol;
import dev.sluice.gateway.metrics.GatewayMetrics;
import dev.sluice.gateway.tls.ListenerTls;
import dev.sluice.gateway.tls.UpstreamTls;
import dev.sluice.gateway.transport.Transports;
import dev.sluice.match.EncodedSlashes;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The client-facing listener of the reverse proxy.
 *
 * <p>Parsing limits (fixed, see {@code docs/limitations.md}): request line at most {@value
 * #MAX_INITIAL_LINE} bytes (longer: 400), header section at most {@value #MAX_HEADER_SIZE} bytes
 * (larger: 431), body chunks handed on in pieces of at most {@value #MAX_CHUNK} bytes. A client
 * connection idle for {@value #CLIENT_IDLE_SECONDS} seconds between requests is closed; a request
 * head slower than {@code header_timeout} or a body pausing longer than {@code body_timeout} gets
 * 408, and connections beyond {@code max_connections} (per peer: {@code max_connections_per_ip})
 * are closed at accept (package {@code dev.sluice.gateway.edge}).
 *
 * <p>The upstream's host name is resolved once, at start. The client's {@code Host} header is
 * forwarded unchanged (so the app sees the public host), with {@code X-Forwarded-For},
 * {@code X-Forwarded-Proto} and {@code X-Forwarded-Host} set as SPEC §4 describes.
 *
 * <p>Thread-safe; the server runs on the event loop group it is given, which the caller owns.
 */
public final class ProxyServer implements AutoCloseable {
  static final int MAX_INITIAL_LINE = 8192;
  static final int MAX_HEADER_SIZE = 16384;
  static final int MAX_CHUNK = 65536;
  /**
   * A client connection with no request in progress and no byte from the client for this long is
   * closed ({@link KeepAliveIdle}).
   */
  static final int CLIENT_IDLE_SECONDS = 75;
  /** Idle upstream connections kept per event loop. */
  static final int MAX_IDLE_PER_LOOP = 64;

  private final Channel serverChannel;
  private final ProxyContext context;
  private final ConnectionCaps caps;
  private final Drain drain;

  private ProxyServer(Channel serverChannel, ProxyContext context, ConnectionCaps caps, Drain drain) {
    this.serverChannel = serverChannel;
    this.context = context;
    this.caps = caps;
    this.drain = drain;
  }

  /**
   * A proxy to start: the four things every proxy needs here, the rest on the {@link Builder}
   * (defaults: IETF rate-limit fields, no metrics, no in-flight cap, {@code %2F} read as a
   * separator, the default edge settings, plain HTTP).
   *
   * @param listen where clients connect; port 0 picks a free port (see {@link #address()})
   * @param upstream {@code http://host[:port]} or {@code https://host[:port]} of the protected app
   *     (ignored when {@link Builder#edge} lists several upstreams)
   * @param upstreamTimeout longest wait for the upstream's response head (then 504); positive
   * @param engine decides every request
   * @param group the event loops for the listener and upstream connections (the caller owns them)
   * @throws NullPointerException when an argument is null
   * @throws IllegalArgumentException when {@code upstreamTimeout} is not positive
   */
  public static Builder builder(
      InetSocketAddress listen, URI upstream, Duration upstreamTimeout, Engine engine, EventLoopGroup group) {
    return new Builder(listen, upstream, upstreamTimeout, engine, group);
  }

  /** The settings of a proxy to start ({@link ProxyServer#builder}); single use, not thread-safe. */
  public static final class Builder {
    private final InetSocketAddress listen;
    private final URI upstream;
    private final Duration upstreamTimeout;
    private final Engine engine;
    private final EventLoopGroup group;
    private HeaderStyle headerStyle = HeaderStyle.IETF;
    private GatewayMetrics metrics;
    private int maxInflight;
    private EncodedSlashes encodedSlashes = EncodedSlashes.DECODE;
    private EdgeSettings edge = EdgeSettings.defaults();
    private EdgeMetrics edgeMetrics;
    private ListenerTls listenerTls;
    private java.util.function.Function<URI, UpstreamTls> upstreamTls;

    private Builder(InetSocketAddress listen, URI upstream, Duration upstreamTimeout, Engine engine, EventLoopGroup group) {
      this.listen = Objects.requireNonNull(listen, "listen");
      this.upstream = Objects.requireNonNull(upstream, "upstream");
      this.engine = Objects.requireNonNull(engine, "engine");
      this.group = Objects.requireNonNull(group, "group");
      if (upstreamTimeout == null || upstreamTimeout.isNegative() || upstreamTimeout.isZero()) {
        throw new IllegalArgumentException("upstream timeout must be positive, got " + upstreamTimeout);
      }
      this.upstreamTimeout = upstreamTimeout;
    }

    /** Which rate-limit fields responses carry; {@code null} keeps the default, IETF. */
    public Builder headerStyle(HeaderStyle style) {
      this.headerStyle = style == null ? HeaderStyle.IETF : style;
      return this;
    }

    /** Upstream latency and shedding observations; {@code null} (the default) for none. */
    public Builder metrics(GatewayMetrics metrics) {
      this.metrics = metrics;
      return this;
    }

    /**
     * {@code gateway.max_inflight}: a global in-flight cap that sheds requests by priority (see
     * {@link InflightLimiter} for the thresholds); 0 (the default) = no cap.
     *
     * @throws IllegalArgumentException when negative
     */
    public Builder maxInflight(int maxInflight) {
      if (maxInflight < 0) {
        throw new IllegalArgumentException("max_inflight must be 0 (no cap) or positive, got " + maxInflight);
      }
      this.maxInflight = maxInflight;
      return this;
    }

    /**
     * {@code gateway.encoded_slashes}: what {@code %2F} in a request path means for matching
     * ({@link EncodedSlashes#REJECT} answers such targets 400).
     */
    public Builder encodedSlashes(EncodedSlashes encodedSlashes) {
      this.encodedSlashes = Objects.requireNonNull(encodedSlashes, "encodedSlashes");
      return this;
    }

    /**
     * The slow-client timeouts, connection caps, PROXY protocol and upstream list of {@code edge}
     * (see {@link ClientTimeouts} and {@link ConnectionCaps}).
     *
     * @param edgeMetrics where refusals and timeouts are counted; {@code null} for none
     */
    public Builder edge(EdgeSettings edge, EdgeMetrics edgeMetrics) {
      this.edge = Objects.requireNonNull(edge, "edge");
      this.edgeMetrics = edgeMetrics;
      return this;
    }

    /**
     * TLS termination on the listener ({@code listenerTls}) and the verification of each {@code
     * https://} upstream ({@code upstreamTls}, called once per such upstream at start: its own SNI
     * and host-name check); behind TLS termination the upstream gets {@code X-Forwarded-Proto:
     * https}.
     *
     * @param listenerTls the listener's certificate; {@code null} = plain HTTP
     * @param upstreamTls the TLS setup of one {@code https://} upstream; required when there is one
     */
    public Builder tls(ListenerTls listenerTls, java.util.function.Function<URI, UpstreamTls> upstreamTls) {
      this.listenerTls = listenerTls;
      this.upstreamTls = upstreamTls;
      return this;
    }

    /**
     * Binds the listener and starts proxying.
     *
     * @throws IllegalArgumentException when an upstream URI is not {@code http(s)://host[:port]} or
     *     its host does not resolve
     * @throws NullPointerException when an upstream is {@code https://} and no {@link #tls} was given
     * @throws IllegalStateException when the address cannot be bound (the cause is the
     *     {@link java.net.BindException})
     */
    public ProxyServer start() {
      return ProxyServer.start(this);
    }
  }

  private static ProxyServer start(Builder b) {
    InetSocketAddress listen = b.listen;
    URI upstream = b.upstream;
    Duration upstreamTimeout = b.upstreamTimeout;
    HeaderStyle headerStyle = b.headerStyle;
    Engine engine = b.engine;
    GatewayMetrics metrics = b.metrics;
    EventLoopGroup group = b.group;
    int maxInflight = b.maxInflight;
    EncodedSlashes encodedSlashes = b.encodedSlashes;
    EdgeSettings edge = b.edge;
    EdgeMetrics edgeMetrics = b.edgeMetrics;
    ListenerTls listenerTls = b.listenerTls;
    java.util.function.Function<URI, UpstreamTls> upstreamTls = b.upstreamTls;
    // One URL, or the list gateway.upstream gave (each resolved once, here).
    java.util.Map<String, InetSocketAddress> resolved = new java.util.LinkedHashMap<>();
    java.util.Map<String, UpstreamTls> tls = new java.util.HashMap<>();
    for (URI each : edge.upstreams().isEmpty() ? java.util.List.of(upstream) : edge.upstreams()) {
      resolved.put(each.toString(), upstreamAddress(each));
      if (isHttps(each)) {
        tls.put(each.toString(),
            Objects.requireNonNull(upstreamTls, "upstreamTls for an https:// upstream").apply(each));
      }
    }
    dev.sluice.gateway.upstreams.UpstreamSet upstreams = new dev.sluice.gateway.upstreams.UpstreamSet(
        resolved, edgeMetrics == null ? null : edgeMetrics.registry(), System::nanoTime);
    ProxyContext context =
        new ProxyContext(
            engine,
            headerStyle,
            upstreamTimeout,
            metrics,
            upstreams,
            resolved.keySet().iterator().next(),
            MAX_IDLE_PER_LOOP,
            maxInflight == 0 ? InflightLimiter.UNLIMITED : new InflightLimiter(maxInflight),
            encodedSlashes,
            tls,
            listenerTls != null);
    HttpDecoderConfig decoderConfig = decoderConfig();
    // Trusted proxies carry many clients on one address: they count only towards the total. Asked
    // of the current policy version, so a reload's trusted_proxies apply.
    java.util.function.Predicate<java.net.InetAddress> trusted =
        address -> engine.current().policies().identity().isTrustedProxy(address);
    ConnectionCaps caps = new ConnectionCaps(edge.maxConnections(), edge.maxConnectionsPerIp(), trusted, edgeMetrics);
    ProxyProtocol proxyProtocol = edge.proxyProtocol() ? new ProxyProtocol(trusted, caps) : null;
    Drain drain = new Drain();
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(group)
            .channel(Transports.serverChannel(group))
            .option(ChannelOption.SO_BACKLOG, 1024)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    Transports.guard(ch);
                    ClientTimeouts timeouts = new ClientTimeouts(edge.headerTimeout(), edge.bodyTimeout(), edgeMetrics);
                    ch.pipeline().addLast("caps", caps.handler());
                    if (proxyProtocol != null) {
                      // Before TLS: the PROXY header precedes the TLS handshake on the wire.
                      ch.pipeline().addLast("proxy-protocol", proxyProtocol.gate());
                    }
                    if (listenerTls != null) {
                      // Before the timeouts and the decoder, which see the decrypted bytes.
                      ch.pipeline().addLast("tls", listenerTls.newHandler(ch));
                    }
                    ch.pipeline()
                        // Reader idle, not all idle: see KeepAliveIdle.
                        .addLast("idle", new IdleStateHandler(CLIENT_IDLE_SECONDS, 0, 0, TimeUnit.SECONDS))
                        .addLast("decoder", new StrictRequestDecoder(decoderConfig.clone(), timeouts))
                        .addLast("encoder", new ResponseEncoder())
                        .addLast("drain", drain.tracker())
                        .addLast("proxy", new ClientHandler(context));
                  }
                });
    ChannelFuture bound = bootstrap.bind(listen).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      Throwable cause = bound.cause();
      throw new IllegalStateException(
          "cannot listen on " + text(listen) + ": " + (cause == null ? "unknown error" : cause.getMessage()),
          cause);
    }
    return new ProxyServer(bound.channel(), context, caps, drain);
  }

  private static InetSocketAddress upstreamAddress(URI upstream) {
    Objects.requireNonNull(upstream, "upstream");
    String scheme = upstream.getScheme() == null ? "" : upstream.getScheme().toLowerCase(Locale.ROOT);
    if (!(scheme.equals("http") || scheme.equals("https")) || upstream.getHost() == null) {
      throw new IllegalArgumentException(
          "upstream '" + upstream + "' is not supported; expected http://host[:port] or https://host[:port]");
    }
    String path = upstream.getRawPath();
    if ((path != null && !path.isEmpty() && !path.equals("/")) || upstream.getRawQuery() != null) {
      throw new IllegalArgumentException(
          "upstream '" + upstream + "' has a path or query; expected http://host[:port] (requests keep their own path)");
    }
    int port = upstream.getPort() < 0 ? (scheme.equals("https") ? 443 : 80) : upstream.getPort();
    InetSocketAddress address = new InetSocketAddress(upstream.getHost(), port);
    if (address.isUnresolved()) {
      throw new IllegalArgumentException(
          "upstream host '" + upstream.getHost() + "' does not resolve; expected a resolvable host name or an IP address");
    }
    return address;
  }

  private static boolean isHttps(URI upstream) {
    return upstream != null && "https".equalsIgnoreCase(upstream.getScheme());
  }

  private static String text(InetSocketAddress address) {
    return address.getHostString() + ":" + address.getPort();
  }

  /** The bound address (the real port when started with port 0). */
  public InetSocketAddress address() {
    return (InetSocketAddress) serverChannel.localAddress();
  }

  /**
   * Tells {@code listener} about every decided exchange once its status is known (the access
   * log); see {@link ExchangeListener}. Set it right after {@code start}; null removes it.
   */
  public void exchangeListener(ExchangeListener listener) {
    context.exchanges(listener);
  }

  /** Requests in flight to the upstream counted by the {@code max_inflight} cap (0 without a cap; racy). */
  public int inflight() {
    return context.inflight().inflight();
  }

  /** Client connections open now, as counted by the connection caps (racy). */
  public int openConnections() {
    return caps.open();
  }

  /** Client connections open now from {@code address}, as its per-address cap counts them (racy). */
  public int openConnections(java.net.InetAddress address) {
    return caps.open(address);
  }

  /** Idle keep-alive connections to the upstream, summed over event loops (racy; for tests). */
  public int idleUpstreamConnections() {
    return context.idleConnections();
  }

  /** The drain of this listener's connections (the decision API's connections may join it). */
  public Drain drain() {
    return drain;
  }

  /**
   * Stops accepting new connections; idle keep-alive connections close now, busy ones after their
   * response. Returns at once; {@link Drain#awaitIdle} waits for the rest.
   */
  public Drain stopAccepting() {
    serverChannel.close().awaitUninterruptibly();
    drain.start();
    return drain;
  }

  /**
   * Stops accepting connections and closes idle upstream connections. Connections in progress
   * end when the event loop group shuts down. Idempotent.
   */
  @Override
  public void close() {
    serverChannel.close().awaitUninterruptibly();
    context.closePools();
  }

  /** The request decoder's settings (also the fuzz target's: RequestDecoderFuzzProperties). */
  static HttpDecoderConfig decoderConfig() {
    return new HttpDecoderConfig()
        .setMaxInitialLineLength(MAX_INITIAL_LINE)
        .setMaxHeaderSize(MAX_HEADER_SIZE)
        .setMaxChunkSize(MAX_CHUNK)
        .setAllowDuplicateContentLengths(false)
        .setStrictLineParsing(true)
        .setValidateHeaders(true);
  }
}
