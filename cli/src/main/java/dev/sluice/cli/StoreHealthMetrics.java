package dev.sluice.cli;

import dev.sluice.gateway.Gateway;
import dev.sluice.store.Store;
import dev.sluice.store.redis.RedisStore;
import io.micrometer.core.instrument.Gauge;

/**
 * Gauges the alert rules and the Grafana dashboard ({@code deploy/}) watch that need the store or
 * the ban replica, registered by {@code serve}:
 *
 * <ul>
 *   <li>{@code sluice_store_circuit_open}: 1 while the Redis store's circuit breaker is open (Redis
 *       failed; calls fail fast under {@code on_error} until a probe succeeds), else 0; always 0
 *       for the memory store, so one alert rule fits every deployment;
 *   <li>{@code sluice_bans_active}: unexpired bans in this instance's replica (all instances see
 *       the same bans within a second).
 * </ul>
 */
final class StoreHealthMetrics {
  private StoreHealthMetrics() {}

  static void bind(Gateway gateway, Store store) {
    Gauge.builder("sluice.store.circuit.open", store,
            s -> s instanceof RedisStore redis && redis.circuitOpen() ? 1 : 0)
        .description("1 while the Redis store's circuit breaker is open (Redis failing), else 0")
        .register(gateway.registry());
    Gauge.builder("sluice.bans.active", gateway, g -> g.engine().bans().bans().size())
        .description("Unexpired bans (penalties and admin API) in this instance's replica")
        .register(gateway.registry());
  }
}
