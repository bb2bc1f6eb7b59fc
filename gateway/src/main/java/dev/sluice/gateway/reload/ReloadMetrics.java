package dev.sluice.gateway.reload;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The reload metrics (SPEC §9): {@code sluice_config_reloads_total{result="success"|"error"}}
 * (rollbacks included), {@code sluice_config_info{version,sha256}} = 1 for the version in force
 * (the previous version's series is removed), and {@code
 * sluice_config_last_reload_success_timestamp_seconds} (the start counts as the first success).
 */
final class ReloadMetrics {
  private final MeterRegistry registry;
  private final Counter success;
  private final Counter error;
  private final AtomicLong lastSuccessMillis = new AtomicLong();
  private Gauge info;

  ReloadMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.success = Counter.builder("sluice.config.reloads").tag("result", "success")
        .description("Policy reloads and rollbacks by result").register(registry);
    this.error = Counter.builder("sluice.config.reloads").tag("result", "error")
        .description("Policy reloads and rollbacks by result").register(registry);
    Gauge.builder("sluice.config.last.reload.success.timestamp.seconds", lastSuccessMillis, m -> m.get() / 1000.0)
        .description("When the policy file was last loaded successfully (Unix time)").register(registry);
  }

  /** Publishes {@code version} as the one in force. */
  synchronized void inForce(ConfigVersion version, long nowMillis, boolean countSuccess) {
    if (info != null) {
      registry.remove(info);
    }
    info = Gauge.builder("sluice.config.info", () -> 1)
        .tag("version", Integer.toString(version.version()))
        .tag("sha256", version.sha256())
        .description("The policy file version in force (value 1)")
        .register(registry);
    lastSuccessMillis.set(nowMillis);
    if (countSuccess) {
      success.increment();
    }
  }

  void failed() {
    error.increment();
  }
}
