package dev.sluice.gateway.edge;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * The edge's Prometheus metrics:
 *
 * <ul>
 *   <li>{@code sluice_connections_refused_total{reason}}: client connections closed at accept,
 *       {@code reason} {@code max_connections} or {@code max_connections_per_ip};
 *   <li>{@code sluice_connections_open}: client connections open now;
 *   <li>{@code sluice_client_timeouts_total{phase}}: connections closed because the request head
 *       did not arrive within {@code header_timeout} ({@code phase="head"}, answered {@code 408})
 *       or a request body paused longer than {@code body_timeout} ({@code phase="body"}).
 * </ul>
 *
 * <p>Thread-safe; every counter is created once.
 */
public final class EdgeMetrics {
  private final MeterRegistry registry;
  private final Map<ConnectionCaps.Reason, Counter> refused = new EnumMap<>(ConnectionCaps.Reason.class);
  private final Map<ClientTimeouts.Phase, Counter> timeouts = new EnumMap<>(ClientTimeouts.Phase.class);

  /** Registers the counters on {@code registry} (the gauge once caps are bound). */
  public EdgeMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (ConnectionCaps.Reason reason : ConnectionCaps.Reason.values()) {
      refused.put(reason, Counter.builder("sluice_connections_refused")
          .description("Client connections closed at accept because a connection cap was reached")
          .tag("reason", reason.label())
          .register(registry));
    }
    for (ClientTimeouts.Phase phase : ClientTimeouts.Phase.values()) {
      timeouts.put(phase, Counter.builder("sluice_client_timeouts")
          .description("Client connections closed because the request head or body was too slow")
          .tag("phase", phase.label())
          .register(registry));
    }
  }

  /** The registry the edge's meters live on (per-upstream meters are registered there too). */
  public MeterRegistry registry() {
    return registry;
  }

  void refused(ConnectionCaps.Reason reason) {
    refused.get(reason).increment();
  }

  void timedOut(ClientTimeouts.Phase phase) {
    timeouts.get(phase).increment();
  }

  void bindOpenConnections(IntSupplier open) {
    // The supplier is a method reference nobody else holds: Micrometer keeps a gauge's state only
    // weakly unless told otherwise, and after a GC the gauge would read NaN.
    Gauge.builder("sluice_connections_open", open, s -> s.getAsInt())
        .description("Client connections open now")
        .strongReference(true)
        .register(registry);
  }

  /** Connections refused so far for {@code reason} (for tests and the dashboard). */
  public double refusedCount(ConnectionCaps.Reason reason) {
    return refused.get(reason).count();
  }

  /** Connections closed so far for being too slow in {@code phase}. */
  public double timeoutCount(ClientTimeouts.Phase phase) {
    return timeouts.get(phase).count();
  }
}
