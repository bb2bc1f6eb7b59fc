package dev.sluice.gateway.proxy;

import dev.sluice.policy.Priority;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The global in-flight cap to the upstream ({@code gateway.max_inflight}, SPEC §7) with shedding by
 * priority: low-priority requests are refused first, critical ones last.
 *
 * <p>Thresholds, as a share of {@code max} (each rounded down, at least 1): a request is admitted
 * only while the requests already in flight are fewer than its priority's threshold:
 *
 * <ul>
 *   <li>{@link Priority#LOW}: 50% — half the capacity is kept free for the more important traffic;
 *   <li>{@link Priority#NORMAL}: 90%;
 *   <li>{@link Priority#CRITICAL}: 100% — critical requests may use every slot.
 * </ul>
 *
 * Example, {@code max_inflight: 200}: low admitted while fewer than 100 are in flight, normal
 * while fewer than 180, critical while fewer than 200. A refused request gets {@code 503} with
 * {@code Retry-After: 1} and is counted in {@code sluice_shed_total{priority}}.
 *
 * <p>"In flight" = admitted by the engine and not yet ended: from the moment the request is sent
 * on towards the upstream until its exchange ends (response written, client gone, upstream error
 * or timeout). Counted per gateway instance (a local capacity guard, not a shared quota).
 *
 * <p>Thread-safe, lock-free: one CAS loop per admission, one decrement per end.
 */
final class InflightLimiter {
  /** No cap: {@link #tryAcquire} always admits and nothing is counted. */
  static final InflightLimiter UNLIMITED = new InflightLimiter(0);

  private final int max;
  private final int[] thresholds = new int[Priority.values().length];
  private final AtomicInteger inflight = new AtomicInteger();

  /** @param max the cap; 0 = none */
  InflightLimiter(int max) {
    if (max < 0) {
      throw new IllegalArgumentException("max_inflight must be at least 1 (or 0 for no cap), got " + max);
    }
    this.max = max;
    thresholds[Priority.CRITICAL.ordinal()] = max;
    thresholds[Priority.NORMAL.ordinal()] = Math.max(1, (int) (max * 90L / 100));
    thresholds[Priority.LOW.ordinal()] = Math.max(1, (int) (max * 50L / 100));
  }

  /** Whether there is a cap at all. */
  boolean enabled() {
    return max > 0;
  }

  /** The in-flight count below which {@code priority} is admitted. */
  int threshold(Priority priority) {
    return thresholds[priority.ordinal()];
  }

  /**
   * Admits one request of {@code priority} and counts it in flight, or refuses it (shed). Every
   * {@code true} must be paired with exactly one {@link #release()}.
   */
  boolean tryAcquire(Priority priority) {
    if (max == 0) {
      return true;
    }
    int limit = thresholds[priority.ordinal()];
    while (true) {
      int now = inflight.get();
      if (now >= limit) {
        return false;
      }
      if (inflight.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }

  /** Ends one request admitted by {@link #tryAcquire}. */
  void release() {
    if (max != 0) {
      inflight.decrementAndGet();
    }
  }

  /** Requests in flight now (racy; metrics and tests). */
  int inflight() {
    return inflight.get();
  }
}
