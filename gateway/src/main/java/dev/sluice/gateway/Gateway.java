package dev.sluice.gateway;

import dev.sluice.config.DecisionSettings;
import dev.sluice.config.GatewaySettings;
import dev.sluice.config.SluiceConfig;
import dev.sluice.engine.Engine;
import dev.sluice.gateway.accesslog.AccessLog;
import dev.sluice.gateway.admin.AdminRequestGuard;
import dev.sluice.gateway.admin.AdminServer;
import dev.sluice.gateway.audit.AuditLog;
import dev.sluice.gateway.decision.DecisionServer;
import dev.sluice.gateway.live.LiveView;
import dev.sluice.gateway.edge.EdgeMetrics;
import dev.sluice.gateway.metrics.GatewayMetrics;
import dev.sluice.config.TlsSettings;
import dev.sluice.gateway.proxy.Drain;
import dev.sluice.gateway.proxy.ProxyServer;
import dev.sluice.gateway.tls.ListenerTls;
import dev.sluice.gateway.tls.UpstreamTls;
import dev.sluice.gateway.transport.Transports;
import dev.sluice.store.Ban;
import dev.sluice.store.Store;
import dev.sluice.time.Clock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Sluice gateway: the reverse proxy on {@code gateway.listen} (when {@code
 * gateway.upstream} is set), the decision API on {@code decision.listen} (when set; see {@code
 * DecisionServer}), both deciding with one engine over one store, the admin listener on
 * {@code gateway.admin}, the engine built from the config's policies, and metrics plus the audit
 * log listening to every decision.
 *
 * <p>Abuse control (SPEC §7): the engine's ban replica is refreshed from the store every {@value
 * #BAN_REFRESH_MILLIS} ms on the event loop group (non-blocking; a refresh still running is not
 * started twice), so a ban added on another instance applies here within a second. The same
 * refresh notices a store that lost its state (Redis FLUSHALL, failover to an empty replica) and
 * writes back the bans this instance holds (see {@code StoreResets}). Concurrency
 * permits are leased for {@link #permitLease(Duration)}, longer than any exchange the upstream
 * timeout allows. {@code gateway.max_inflight} sheds by priority (see the proxy's
 * {@code InflightLimiter}); {@code gateway.admin_token_env} protects the admin API and
 * {@code /metrics} (see {@link AdminServer}).
 *
 * <p>All listeners share one Netty event loop group (the transport {@link Transports} picks, daemon threads). The
 * {@link Store} belongs to the caller: {@link #close()} does not close it, so the caller closes it
 * after the gateway.
 *
 * <p>Thread-safe.
 */
public final class Gateway implements AutoCloseable {
  /** How often the ban replica is refreshed from the store. */
  public static final long BAN_REFRESH_MILLIS = 250;

  private static final Logger log = LoggerFactory.getLogger(Gateway.class);

  private final EventLoopGroup group;
  private final Engine engine;
  private final ScheduledFuture<?> banRefresh;
  /** Null when only the decision API runs. */
  private final ProxyServer proxy;
  /** The listener's certificate, reloaded on SIGHUP; {@code null} without {@code gateway.tls}. */
  private volatile ListenerTls listenerTls;
  /** Null without {@code decision.listen}. */
  private final DecisionServer decision;
  private final Drain drain;
  private final AdminServer admin;
  private final AuditLog audit;
  private final AccessLog access;
  private final PrometheusMeterRegistry registry;
  private boolean closed;

  private Gateway(
      EventLoopGroup group, Engine engine, ScheduledFuture<?> banRefresh, ProxyServer proxy, DecisionServer decision,
      Drain drain, AdminServer admin, AuditLog audit, AccessLog access, PrometheusMeterRegistry registry) {
    this.decision = decision;
    this.drain = drain;
    this.access = access;
    this.engine = engine;
    this.banRefresh = banRefresh;
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
    if (!config.runsGateway() && config.decision().isEmpty()) {
      throw new IllegalArgumentException("neither gateway.upstream nor decision.listen is set; nothing to serve");
    }
    GatewaySettings settings = config.gateway();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    GatewayMetrics metrics = new GatewayMetrics(registry);
    AuditLog audit = AuditLog.open(config.auditLog());
    LiveView live = new LiveView(InstantSource.system());
    metrics.bindStore(store);
    metrics.bindAuditLog(audit);
    AccessLog access;
    try {
      access = AccessLog.open(config.accessLog());
    } catch (RuntimeException e) {
      audit.close();
      registry.close();
      throw e;
    }
    metrics.bindAccessLog(access);
    EventLoopGroup group = null;
    ProxyServer proxy = null;
    DecisionServer decision = null;
    try {
      Engine engine =
          Engine.builder()
              .policies(config.policies())
              .store(store)
              .clock(clock)
              .wallClock(InstantSource.system())
              .permitLease(permitLease(settings.upstreamTimeout(), config.decision()))
              .listener(DecisionListeners.of(metrics, audit, live))
              .timeOneIn(GatewayMetrics.decisionTimingOneIn(store))
              .build();
      // Bans already in the store (another instance's, or a restored snapshot's) apply from the
      // first request, not from the first scheduled refresh: a banned client must not trip a
      // second offence in between. Bounded by the store timeout; a failing store is retried later.
      try {
        engine.bans().refresh().toCompletableFuture().get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("could not read the bans from the store at start; retrying every {} ms", BAN_REFRESH_MILLIS);
      }
      group = Transports.newGroup(0, new DefaultThreadFactory("sluice", true));
      TlsSettings tls = settings.tls();
      ListenerTls listenerTls = null;
      if (config.runsGateway()) {
        listenerTls = tls.terminates() ? ListenerTls.load(tls.certFile().get(), tls.keyFile().get()) : null;
        // One per https:// upstream (each with its own SNI and host-name check), built at start.
        java.util.function.Function<java.net.URI, UpstreamTls> upstreamTls = u -> UpstreamTls.create(u.getHost(),
            u.getPort() < 0 ? 443 : u.getPort(), tls.upstreamCaFile(), tls.insecureSkipVerify());
        proxy = ProxyServer.builder(settings.listen(), settings.upstream(), settings.upstreamTimeout(), engine, group)
            .headerStyle(config.headers()).metrics(metrics).maxInflight(settings.maxInflight())
            .encodedSlashes(settings.encodedSlashes()).edge(settings.edge(), new EdgeMetrics(registry))
            .tls(listenerTls, upstreamTls)
            .start();
        if (access.enabled()) {
          proxy.exchangeListener((request, decided, decidedAt, shed, status, upstreamNanos) -> access.log(
              AccessLog.VIA_GATEWAY, java.time.Instant.ofEpochMilli(decidedAt), request, decided, shed, status,
              upstreamNanos));
        }
      }
      Drain drain = proxy != null ? proxy.drain() : new Drain();
      if (config.decision().isPresent()) {
        // The same engine (and so the same store, listeners and reloads) as the proxy: SPEC §8.
        decision = DecisionServer.start(config.decision().get(), engine, config.headers(), settings.encodedSlashes(),
            group, clock, drain, access.enabled() ? access : null);
      }
      AdminServer admin = AdminServer.start(settings.admin(), registry, store, group, config.store().onError(),
          engine, InstantSource.system(),
          new AdminRequestGuard(settings.adminToken(), settings.adminAccess().hosts()));
      admin.liveView(live, store);
      ScheduledFuture<?> refresh = scheduleBanRefresh(group, engine, new StoreResets(store, InstantSource.system()));
      Gateway gateway = new Gateway(group, engine, refresh, proxy, decision, drain, admin, audit, access, registry);
      gateway.listenerTls = listenerTls;
      return gateway;
    } catch (RuntimeException e) {
      if (proxy != null) {
        proxy.close();
      }
      if (decision != null) {
        decision.close();
      }
      if (group != null) {
        Transports.stop(group, 0, 1_000);
      }
      audit.close();
      access.close();
      registry.close();
      throw e;
    }
  }

  /**
   * The lease of a concurrency permit: at least {@link Engine.Builder#DEFAULT_PERMIT_LEASE}, and
   * at least twice the upstream timeout plus a minute, so a permit never lapses while its exchange
   * can still run (the timeout bounds the wait for the response head; the body transfer follows).
   */
  static Duration permitLease(Duration upstreamTimeout) {
    Duration floor = upstreamTimeout.multipliedBy(2).plusMinutes(1);
    return floor.compareTo(Engine.Builder.DEFAULT_PERMIT_LEASE) > 0 ? floor : Engine.Builder.DEFAULT_PERMIT_LEASE;
  }

  /**
   * {@link #permitLease(Duration)}, and with the decision API also longer than a ticket's lease
   * plus a minute: the decision API releases an unsettled ticket's permits itself when its lease
   * ends, and the store's lease only backs that up (a crash).
   */
  static Duration permitLease(Duration upstreamTimeout, Optional<DecisionSettings> decision) {
    Duration lease = permitLease(upstreamTimeout);
    if (decision.isPresent()) {
      Duration ticket = decision.get().ticketLease().plusMinutes(1);
      return ticket.compareTo(lease) > 0 ? ticket : lease;
    }
    return lease;
  }

  /**
   * Refreshes the engine's ban replica every {@link #BAN_REFRESH_MILLIS} ms on one event loop. The
   * refresh is asynchronous (a remote store answers on its own thread); while one runs, the next
   * tick is skipped, so a slow store never piles up refreshes.
   */
  private static ScheduledFuture<?> scheduleBanRefresh(EventLoopGroup group, Engine engine, StoreResets resets) {
    AtomicBoolean running = new AtomicBoolean();
    AtomicBoolean failing = new AtomicBoolean();
    return group.next().scheduleWithFixedDelay(() -> {
      if (!running.compareAndSet(false, true)) {
        return;
      }
      try {
        List<Ban> held = resets.held(engine.bans());
        engine.bans().refresh()
            .thenCompose(v -> resets.afterRefresh(engine.bans(), held))
            .whenComplete((ok, error) -> {
          running.set(false);
          if (error != null && failing.compareAndSet(false, true)) {
            // Once per failure streak, at INFO: the store's own state change is the outage's WARN
            // line (one per change, issue 16); a down store must not flood the log four times a second.
            log.info("refreshing bans from the store failed; keeping the last known bans: {}", error.toString());
          } else if (error == null && failing.compareAndSet(true, false)) {
            log.info("refreshing bans from the store works again");
          }
        });
      } catch (RuntimeException e) {
        running.set(false);
        log.warn("refreshing bans failed", e);
      }
    }, BAN_REFRESH_MILLIS, BAN_REFRESH_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** The engine deciding this gateway's requests (its {@link Engine#bans()} is the ban replica). */
  public Engine engine() {
    return engine;
  }

  /**
   * Re-reads the listener's TLS certificate and key ({@code SIGHUP}); new connections get the new
   * certificate, and a pair that cannot be used leaves the old one in force.
   *
   * @return what happened, one line; empty when the listener has no TLS
   */
  public java.util.Optional<String> reloadCertificates() {
    ListenerTls tls = listenerTls;
    return tls == null ? java.util.Optional.empty() : java.util.Optional.of(tls.reload());
  }

  /** Requests in flight to the upstream as counted by {@code gateway.max_inflight} (0 without a cap; racy). */
  public int inflight() {
    return proxy == null ? 0 : proxy.inflight();
  }

  /** Client connections open now (racy; for tests and operators); 0 when only the decision API runs. */
  public int openConnections() {
    return proxy == null ? 0 : proxy.openConnections();
  }

  /**
   * Client connections open now from {@code address}, as {@code max_connections_per_ip} counts
   * them (its /64 for IPv6; racy; for tests and operators).
   */
  public int openConnections(java.net.InetAddress address) {
    return proxy == null ? 0 : proxy.openConnections(address);
  }

  /** The Netty transport the listeners and upstream connections run on ({@link Transports}). */
  public Transports.Kind transport() {
    return Transports.of(group);
  }

  /**
   * Where clients connect (the real port when configured with port 0).
   *
   * @throws IllegalStateException when only the decision API runs (no {@code gateway.upstream})
   */
  public InetSocketAddress address() {
    if (proxy == null) {
      throw new IllegalStateException("the gateway's proxy is not running (no gateway.upstream)");
    }
    return proxy.address();
  }

  /** Whether the proxy runs ({@code gateway.upstream} is set). */
  public boolean proxying() {
    return proxy != null;
  }

  /** The decision API ({@code decision.listen}), when it runs. */
  public Optional<DecisionServer> decisionApi() {
    return Optional.ofNullable(decision);
  }

  /** The metrics registry {@code /metrics} exposes (for the reload metrics). */
  public io.micrometer.core.instrument.MeterRegistry registry() {
    return registry;
  }

  /** Serves the config API (reload, rollback, versions) on the admin listener from now on. */
  public void configApi(dev.sluice.gateway.admin.ConfigApi api) {
    admin.configApi(api);
  }

  /**
   * Graceful stop, step one (SPEC §9): {@code /readyz} answers 503 from now on; requests are still
   * served. Call {@link #stopAccepting()} after the grace period.
   */
  public void drain() {
    admin.drain();
  }

  /**
   * Graceful stop, step two: the proxy stops accepting and closes connections as their exchanges
   * end; the returned drain says when none is left. The admin listener keeps serving.
   */
  public Drain stopAccepting() {
    if (decision != null) {
      decision.stopAccepting();
    }
    if (proxy != null) {
      return proxy.stopAccepting(); // starts the drain both listeners share
    }
    drain.start();
    return drain;
  }

  /** Where the admin listener (metrics, health, admin API) is bound. */
  public InetSocketAddress adminAddress() {
    return admin.address();
  }

  /**
   * Opens the audit log file again by its path (log rotation, {@code SIGUSR1}); see {@link
   * AuditLog#reopen()}. Returns at once.
   *
   * @return whether there was an audit file to reopen
   */
  public boolean reopenAuditLog() {
    return audit.reopen();
  }

  /**
   * Opens the access log file again by its path (log rotation, {@code SIGUSR1}); see {@link
   * AccessLog#reopen()}. Returns at once.
   *
   * @return whether there was an access log file to reopen
   */
  public boolean reopenAccessLog() {
    return access.reopen();
  }

  /**
   * The access log ({@code access_log:}), for other request paths that decide (the decision API
   * writes {@code via="decision"} lines through {@link AccessLog#log}); {@link AccessLog#enabled()}
   * is false when the key is not set.
   */
  public AccessLog accessLog() {
    return access;
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
    banRefresh.cancel(false);
    if (decision != null) {
      decision.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    admin.close();
    Transports.stop(group, 100, 5_000); // bounded, logged when the loops did not stop
    audit.close();
    access.close();
    registry.close();
  }
}
