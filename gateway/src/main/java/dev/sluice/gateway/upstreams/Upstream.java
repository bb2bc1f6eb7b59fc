package dev.sluice.gateway.upstreams;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * One upstream of an {@link UpstreamSet} and its passive health.
 *
 * <p>Health is learnt from connection attempts only: a refused connection marks the upstream down
 * at once; other connect failures (timeout, unreachable) mark it down after {@link
 * UpstreamSet#FAILURES_TO_MARK_DOWN} in a row. A down upstream is skipped for {@link
 * UpstreamSet#COOL_DOWN}; after that it gets traffic again (the probe), and one more failure marks
 * it down again at once, while one success makes it healthy. Failures of an exchange after the
 * connection was made (a 502 for a bad response, a 504) do not count: the upstream was reachable.
 *
 * <p>Thread-safe: the state is two atomics read and written from every event loop.
 */
public final class Upstream {
  private final String text;
  private final InetSocketAddress address;
  private final LongSupplier nanos;
  private final AtomicInteger failuresInARow = new AtomicInteger();
  private volatile long downUntil;
  private volatile boolean down;
  private final Counter requests;
  private final Counter refused;
  private final Counter connectErrors;

  Upstream(String text, InetSocketAddress address, LongSupplier nanos, MeterRegistry registry) {
    this.text = text;
    this.address = address;
    this.nanos = nanos;
    if (registry == null) {
      requests = refused = connectErrors = null;
    } else {
      requests = Counter.builder("sluice_upstream_requests")
          .description("Requests handed to an upstream connection, per upstream")
          .tag("upstream", text).register(registry);
      refused = Counter.builder("sluice_upstream_connect_failures")
          .description("Failed connection attempts to an upstream")
          .tag("upstream", text).tag("reason", "refused").register(registry);
      connectErrors = Counter.builder("sluice_upstream_connect_failures")
          .description("Failed connection attempts to an upstream")
          .tag("upstream", text).tag("reason", "error").register(registry);
      Gauge.builder("sluice_upstream_up", this, u -> u.isDown() ? 0 : 1)
          .description("1 while an upstream is used, 0 while it is skipped after failures")
          .tag("upstream", text).register(registry);
    }
  }

  /** The URL as written ({@code http://host:port}); the {@code upstream} metric label. */
  public String text() {
    return text;
  }

  /** Where to connect (resolved once, at start). */
  public InetSocketAddress address() {
    return address;
  }

  /** Whether the upstream is skipped now (down and still cooling down). */
  public boolean isDown() {
    return down && nanos.getAsLong() - downUntil < 0;
  }

  /** A connection was made. */
  public void connected() {
    failuresInARow.set(0);
    down = false;
  }

  /** A request is sent on one of its connections. */
  public void used() {
    if (requests != null) {
      requests.increment();
    }
  }

  /**
   * A connection attempt failed.
   *
   * @param connectionRefused the upstream actively refused (nothing listens): down at once
   */
  public void connectFailed(boolean connectionRefused) {
    Counter counter = connectionRefused ? refused : connectErrors;
    if (counter != null) {
      counter.increment();
    }
    int failures = failuresInARow.incrementAndGet();
    if (connectionRefused || down || failures >= UpstreamSet.FAILURES_TO_MARK_DOWN) { // down: a failed probe
      downUntil = nanos.getAsLong() + UpstreamSet.COOL_DOWN.toNanos();
      down = true;
    }
  }

  @Override
  public String toString() {
    return text;
  }
}
