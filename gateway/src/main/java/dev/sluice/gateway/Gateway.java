package dev.sluice.gateway;

import dev.sluice.config.GatewaySettings;
import dev.sluice.config.SluiceConfig;
import dev.sluice.engine.Engine;
import dev.sluice.gateway.admin.AdminServer;
import dev.sluice.gateway.audit.AuditLog;
import dev.sluice.gateway.metrics.GatewayMetrics;
import dev.sluice.gateway.proxy.ProxyServer;
import dev.sluice.store.Store;
import dev.sluice.time.Clock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A running Sluice gateway: the reverse proxy on {@code gateway.listen}, the admin listener on
 * {@code gateway.admin}, the engine built from the config's policies, and metrics plus the audit
 * log listening to every decision.
 *
 * <p>All listeners share one Netty event loop group (NIO transport, daemon threads). The
 * {@link Store} belongs to the caller: {@link #close()} does not close it, so the caller closes it
 * after the gateway.
 *
 * <p>Thread-safe.
 */
public final class Gateway implements AutoCloseable {
  private final EventLoopGroup group;
  private final ProxyServer proxy;
  private final AdminServer admin;
  private final AuditLog audit;
  private final PrometheusMeterRegistry registry;
  private boolean closed;

  private Gateway(
      EventLoopGroup group, ProxyServer proxy, AdminServer admin, AuditLog audit, PrometheusMeterRegistry registry) {
    this.group = group;
    this.proxy = proxy;
    this.admin = admin;
    this.audit = audit;
    this.registry = registry;
  }

  /**
   * Starts the gateway and returns once both listeners are bound.
   *
   * @param config a validated configuration
   * @param store where buckets live (owned by the caller)
   * @param clock the engine's time source
   * @throws IllegalArgumentException when the upstream is not a usable {@code http://host:port}
   * @throws IllegalStateException when a listen address cannot be bound (cause: the bind error)
   * @throws RuntimeException whatever the audit log or admin listener throws when they cannot
   *     start; everything already started is stopped first
   */
  public static Gateway start(SluiceConfig config, Store store, Clock clock) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(clock, "clock");
    GatewaySettings settings = config.gateway();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    GatewayMetrics metrics = new GatewayMetrics(registry);
    AuditLog audit = AuditLog.open(config.auditLog());
    metrics.bindStore(store);
    metrics.bindAuditLog(audit);
    EventLoopGroup group = null;
    ProxyServer proxy = null;
    try {
      Engine engine =
          Engine.builder()
              .policies(config.policies())
              .store(store)
              .clock(clock)
              .listener(DecisionListeners.of(metrics, audit))
              .build();
      group = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory("sluice", true), NioIoHandler.newFactory());
      proxy =
          ProxyServer.start(
              settings.listen(), settings.upstream(), settings.upstreamTimeout(), config.headers(), engine, metrics, group);
      AdminServer admin = AdminServer.start(settings.admin(), registry, store, group, config.store().onError());
      return new Gateway(group, proxy, admin, audit, registry);
    } catch (RuntimeException e) {
      if (proxy != null) {
        proxy.close();
      }
      if (group != null) {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
      }
      audit.close();
      registry.close();
      throw e;
    }
  }

  /** Where clients connect (the real port when configured with port 0). */
  public InetSocketAddress address() {
    return proxy.address();
  }

  /** Where the admin listener (metrics, health, admin API) is bound. */
  public InetSocketAddress adminAddress() {
    return admin.address();
  }

  /**
   * Stops accepting, closes the admin listener, shuts the event loops down (connections in
   * progress are closed; at most a few seconds), then flushes and closes the audit log.
   * Idempotent; does not close the store.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    proxy.close();
    admin.close();
    group.shutdownGracefully(100, 5_000, TimeUnit.MILLISECONDS).awaitUninterruptibly();
    audit.close();
    registry.close();
  }
}
