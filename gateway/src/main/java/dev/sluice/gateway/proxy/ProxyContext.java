package dev.sluice.gateway.proxy;

import dev.sluice.config.HeaderStyle;
import dev.sluice.engine.Engine;
import dev.sluice.gateway.metrics.GatewayMetrics;
import dev.sluice.match.EncodedSlashes;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** What every connection of one proxy shares: the engine, settings and the per-loop pools. */
final class ProxyContext {
  private final Engine engine;
  private final HeaderStyle headerStyle;
  private final Duration upstreamTimeout;
  private final GatewayMetrics metrics;
  private final dev.sluice.gateway.upstreams.UpstreamSet upstreams;
  private final String upstreamText;
  private final int maxIdlePerLoop;
  private final Map<EventLoop, UpstreamPool> pools = new ConcurrentHashMap<>();
  private final InflightLimiter inflight;
  private final EncodedSlashes encodedSlashes;
  private final String upstreamAuthority;
  /** TLS to each {@code https://} upstream, by its URL text; {@code http://} ones are absent. */
  private final Map<String, dev.sluice.gateway.tls.UpstreamTls> upstreamTls;
  /** Whether clients reach the listener over TLS (then {@code X-Forwarded-Proto: https}). */
  private final boolean tlsListener;
  private volatile ExchangeListener exchanges = ExchangeListener.NONE;
  /** Open WebSocket tunnels and their metrics. */
  private final dev.sluice.gateway.tunnel.Tunnels tunnels;

  ProxyContext(
      Engine engine,
      HeaderStyle headerStyle,
      Duration upstreamTimeout,
      GatewayMetrics metrics,
      dev.sluice.gateway.upstreams.UpstreamSet upstreams,
      String upstreamText,
      int maxIdlePerLoop,
      InflightLimiter inflight,
      EncodedSlashes encodedSlashes,
      Map<String, dev.sluice.gateway.tls.UpstreamTls> upstreamTls,
      boolean tlsListener) {
    this.upstreamTls = Map.copyOf(upstreamTls);
    this.tlsListener = tlsListener;
    this.inflight = inflight;
    this.encodedSlashes = encodedSlashes;
    java.net.URI upstreamUri = java.net.URI.create(upstreamText); // the first upstream's URL
    // host[:port] only: never a user-info part of the URL
    this.upstreamAuthority = upstreamUri.getHost() + (upstreamUri.getPort() < 0 ? "" : ":" + upstreamUri.getPort());
    this.engine = engine;
    this.headerStyle = headerStyle;
    this.upstreamTimeout = upstreamTimeout;
    this.metrics = metrics;
    this.upstreams = upstreams;
    // One upstream: its URL; several: the list, for error messages.
    this.upstreamText = upstreams.all().size() == 1 ? upstreamText
        : String.join(", ", upstreams.all().stream().map(u -> u.text()).toList());
    this.maxIdlePerLoop = maxIdlePerLoop;
    this.tunnels = new dev.sluice.gateway.tunnel.Tunnels(metrics == null ? null : metrics.registry(),
        dev.sluice.gateway.tunnel.Tunnels.DEFAULT_IDLE_TIMEOUT);
  }

  /** The open WebSocket tunnels. */
  dev.sluice.gateway.tunnel.Tunnels tunnels() {
    return tunnels;
  }

  /** Whether clients reach the listener over TLS. */
  boolean tlsListener() {
    return tlsListener;
  }

  Engine engine() {
    return engine;
  }

  /** Told when each decided exchange's status is known (the access log); never null. */
  ExchangeListener exchanges() {
    return exchanges;
  }

  void exchanges(ExchangeListener listener) {
    this.exchanges = listener == null ? ExchangeListener.NONE : listener;
  }

  /** The global in-flight cap ({@link InflightLimiter#UNLIMITED} when none). */
  InflightLimiter inflight() {
    return inflight;
  }

  /** What {@code %2F} in a request path means for matching ({@code gateway.encoded_slashes}). */
  EncodedSlashes encodedSlashes() {
    return encodedSlashes;
  }

  /**
   * {@code host[:port]} of the upstream URL: the {@code Host} sent upstream for a request that
   * carried none (HTTP/1.0), as nginx's {@code proxy_pass} does.
   */
  String upstreamAuthority() {
    return upstreamAuthority;
  }

  HeaderStyle headerStyle() {
    return headerStyle;
  }

  Duration upstreamTimeout() {
    return upstreamTimeout;
  }

  String upstreamTimeoutText() {
    return dev.sluice.time.DurationText.format(upstreamTimeout);
  }

  /** May be {@code null} (no metrics). */
  GatewayMetrics metrics() {
    return metrics;
  }

  String upstreamText() {
    return upstreamText;
  }

  UpstreamPool pool(EventLoop loop) {
    return pools.computeIfAbsent(
        loop, l -> new UpstreamPool(l, upstreams, connectTimeout(), maxIdlePerLoop, upstreamTls));
  }

  /** Connecting gets at most the upstream timeout, and never more than 10 seconds. */
  private Duration connectTimeout() {
    Duration cap = Duration.ofSeconds(10);
    return upstreamTimeout.compareTo(cap) < 0 ? upstreamTimeout : cap;
  }

  /** Closes the idle connections of every loop (each on its own loop). */
  void closePools() {
    for (UpstreamPool pool : pools.values()) {
      if (pool.loop().inEventLoop()) {
        pool.close();
      } else if (!pool.loop().isShuttingDown()) {
        pool.loop().execute(pool::close);
      }
    }
  }

  /** Idle upstream connections over all loops (diagnostics and tests; racy by nature). */
  int idleConnections() {
    int total = 0;
    for (UpstreamPool pool : pools.values()) {
      total += pool.idleCount();
    }
    return total;
  }
}
