package dev.sluice.gateway.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.ref.WeakReference;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

class EdgeMetricsTest {

  @Test
  void openConnectionsGauge_survivesAGarbageCollection_ofASupplierOnlyItHolds() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    AtomicInteger open = new AtomicInteger(7);
    IntSupplier supplier = open::get; // a fresh object, as ConnectionCaps binds it
    WeakReference<IntSupplier> onlyWeakly = new WeakReference<>(supplier);
    new EdgeMetrics(registry).bindOpenConnections(supplier);
    supplier = null;

    for (int i = 0; i < 5; i++) {
      System.gc();
    }

    // Had the registry held the supplier weakly, a collected supplier would make the gauge NaN.
    assertThat(onlyWeakly.get()).as("the registry keeps the supplier").isNotNull();
    assertThat(registry.get("sluice_connections_open").gauge().value()).isEqualTo(7.0);
  }
}
