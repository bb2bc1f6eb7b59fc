package dev.sluice.gateway.upstreams;

import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * The upstreams of one gateway and the order in which a request tries them.
 *
 * <p>Choice: round robin over the upstreams that are not down, starting one further for each
 * request (with keep-alive connections reused per upstream, so traffic spreads evenly over
 * requests, not over connections). Round robin rather than least-in-flight: the gateway's event
 * loops each hold their own connections, so a shared in-flight count would cost a contended atomic
 * per request for little gain with equal WSGI workers behind every upstream.
 *
 * <p>A request whose connection attempt fails tries the next upstream not yet tried; when every
 * healthy upstream failed (or all are down) it tries one down upstream as a probe, and only then
 * is answered {@code 502}. A request that was sent and then lost (the upstream died mid-exchange)
 * is not retried on another upstream: it may have been executed.
 *
 * <p>Thread-safe.
 */
public final class UpstreamSet {
  /** Connect failures in a row (other than a refusal) after which an upstream is skipped. */
  public static final int FAILURES_TO_MARK_DOWN = 3;
  /** How long a failing upstream is skipped before it gets traffic again. */
  public static final Duration COOL_DOWN = Duration.ofSeconds(5);

  private final List<Upstream> upstreams;
  private final AtomicInteger next = new AtomicInteger();

  /**
   * @param upstreams URL text → resolved address, in the order written
   * @param registry where per-upstream metrics are registered; {@code null} for none
   * @param nanos a monotonic clock ({@link System#nanoTime} in production)
   */
  public UpstreamSet(Map<String, InetSocketAddress> upstreams, MeterRegistry registry, LongSupplier nanos) {
    if (upstreams.isEmpty()) {
      throw new IllegalArgumentException("at least one upstream is needed");
    }
    List<Upstream> list = new ArrayList<>();
    upstreams.forEach((text, address) -> list.add(new Upstream(text, address, nanos, registry)));
    this.upstreams = List.copyOf(list);
  }

  /** Every upstream, in the order written. */
  public List<Upstream> all() {
    return upstreams;
  }

  /** A new attempt plan for one request. Not thread-safe itself: one per request. */
  public Attempts attempts() {
    return new Attempts(Math.floorMod(next.getAndIncrement(), upstreams.size()));
  }

  /** The upstreams one request tries, in order. */
  public final class Attempts {
    private final int start;
    private final boolean[] tried = new boolean[upstreams.size()];
    private boolean probed;

    private Attempts(int start) {
      this.start = start;
    }

    /** The next upstream to try, or {@code null} when none is left (answer 502). */
    public Upstream next() {
      int n = upstreams.size();
      for (int i = 0; i < n; i++) {
        int at = (start + i) % n;
        if (!tried[at] && !upstreams.get(at).isDown()) {
          tried[at] = true;
          return upstreams.get(at);
        }
      }
      if (probed) {
        return null;
      }
      probed = true;
      for (int i = 0; i < n; i++) {
        int at = (start + i) % n;
        if (!tried[at]) {
          tried[at] = true;
          return upstreams.get(at);
        }
      }
      return null;
    }
  }
}
