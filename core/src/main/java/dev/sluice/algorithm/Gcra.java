package dev.sluice.algorithm;

import dev.sluice.limit.Limit;
import java.util.List;

/**
 * The generic cell rate algorithm as pure functions of {@code (tat, now, cost, limit)}, in integer
 * nanoseconds.
 *
 * <p>Design. A limit's bucket is one timestamp, the theoretical arrival time {@code tat}: the
 * instant at which the bucket will be full again. With emission interval {@code T =
 * ceil(period / N)} and capacity {@code B × T} (B = burst), the bucket's debt at {@code now} is
 * {@code d = max(0, tat - now)}; a request of cost {@code c} conforms iff {@code d + c × T <= B ×
 * T}, and then {@code tat' = now + d + c × T}. So a fresh bucket admits exactly {@code B} unit
 * requests at once and afterwards one every {@code T}; this is the classic GCRA with tolerance
 * {@code τ = (B - 1) × T}, generalised to costs. Because {@code T} is rounded up, at most {@code B
 * + floor(t × N / period)} tokens are admitted in any interval of length {@code t} starting at a
 * full bucket.
 *
 * <p>Any {@code tat <= now} means "full", so {@link #FRESH} (the smallest long) stands for a bucket
 * never used.
 *
 * <p>Bounds (saturation on purpose). {@code B × T} and {@code c × T} saturate at {@link
 * #MAX_CAPACITY_NANOS} (2<sup>61</sup> ns, about 73 years): only absurd limits reach it and for
 * them it shrinks the capacity, which is conservative (never admits more). All sums stay exact
 * while {@code |now| <= 2^62} (about 146 years from the clock's origin); callers should measure
 * {@code now} from a nearby origin, as {@code MemoryStore} does.
 *
 * <p>Thread-safety: stateless; callers serialise access to one bucket's state.
 */
public final class Gcra {

  /** A {@code tat} for a bucket never used: it is full at any {@code now}. */
  public static final long FRESH = Long.MIN_VALUE;

  /** The largest capacity ({@code burst × interval}) in nanoseconds; larger ones are capped. */
  public static final long MAX_CAPACITY_NANOS = Limit.SATURATION_NANOS;

  private Gcra() {}

  /**
   * The outcome of one step.
   *
   * @param newTat the state after the step (unchanged when denied)
   * @param allowed whether the cost was consumed
   * @param retryAfterNanos when denied, nanoseconds until the same request conforms; else 0
   */
  public record Step(long newTat, boolean allowed, long retryAfterNanos) {}

  /**
   * One request of {@code cost} tokens against one limit.
   *
   * @throws IllegalArgumentException when {@code cost < 1} or {@code cost > limit.burst()} (such a
   *     request could never be admitted; the policy layer rejects it as a configuration error)
   */
  public static Step step(long tat, long now, long cost, Limit limit) {
    long retry = retryAfter(tat, now, cost, limit);
    if (retry > 0) {
      return new Step(tat, false, retry);
    }
    return new Step(admit(tat, now, cost, limit), true, 0);
  }

  /**
   * Nanoseconds until a request of {@code cost} conforms: 0 when it conforms now. Exact: at {@code
   * now + retryAfter} it conforms, one nanosecond earlier it does not.
   *
   * @throws IllegalArgumentException when {@code cost < 1} or {@code cost > limit.burst()}
   */
  public static long retryAfter(long tat, long now, long cost, Limit limit) {
    checkCost(cost, limit);
    long excess = debt(tat, now) + costNanos(cost, limit) - capacityNanos(limit);
    return Math.max(0, excess);
  }

  /**
   * The {@code tat} after admitting {@code cost} tokens; only meaningful when {@link #retryAfter}
   * is 0 for the same arguments. Split from {@link #step} for lock-free callers, which check,
   * compute and then compare-and-set the state without allocating a {@link Step}.
   */
  public static long admit(long tat, long now, long cost, Limit limit) {
    return now + debt(tat, now) + costNanos(cost, limit);
  }

  /**
   * The {@code tat} after giving back {@code cost} tokens of an earlier admission: moved back by
   * exactly what {@link #admit} charged, but never below "full" ({@code now}); a full bucket stays
   * as it is.
   */
  public static long refund(long tat, long now, long cost, Limit limit) {
    return tat <= now ? tat : Math.max(tat - costNanos(cost, limit), now);
  }

  /**
   * Consumes {@code cost} from every limit or from none (all-or-none): every limit is evaluated
   * first; {@code tats} (one per limit, same order) is updated in place only when all conform.
   *
   * @return {@link Admission#ADMITTED}, or the denial naming the limit that needs the longest wait
   *     (first on ties) and that wait, after which all limits conform
   * @throws IllegalArgumentException when the sizes differ or the cost exceeds a limit's burst
   */
  public static Admission consumeAll(long[] tats, long now, long cost, List<Limit> limits) {
    if (tats.length != limits.size()) {
      throw new IllegalArgumentException(
          "one tat per limit expected, got " + tats.length + " for " + limits.size() + " limits");
    }
    int denied = -1;
    long longestWait = 0;
    for (int i = 0; i < tats.length; i++) {
      long wait = retryAfter(tats[i], now, cost, limits.get(i));
      if (wait > longestWait) {
        longestWait = wait;
        denied = i;
      }
    }
    if (denied >= 0) {
      return new Admission(denied, longestWait);
    }
    for (int i = 0; i < tats.length; i++) {
      Limit limit = limits.get(i);
      tats[i] = admit(tats[i], now, cost, limit);
    }
    return Admission.ADMITTED;
  }

  /** Whole tokens available at {@code now} (between 0 and burst). */
  public static long remaining(long tat, long now, Limit limit) {
    // Clamped: after a policy reload shrinks a limit, an old debt may exceed the new capacity.
    return Math.max(0, capacityNanos(limit) - debt(tat, now)) / intervalNanos(limit);
  }

  /** Nanoseconds until one more whole token is available; 0 when the bucket is full. */
  public static long nanosToNextToken(long tat, long now, Limit limit) {
    long debt = debt(tat, now);
    if (debt == 0) {
      return 0;
    }
    // The next token is there when the debt has fallen to capacity - (remaining + 1) * interval.
    long interval = intervalNanos(limit);
    long nextDebt = capacityNanos(limit) - (remaining(tat, now, limit) + 1) * interval;
    return debt - Math.max(0, nextDebt);
  }

  /** Nanoseconds until the bucket is full again; 0 when it is. */
  public static long nanosToFull(long tat, long now) {
    return debt(tat, now);
  }

  /** The bucket capacity {@code burst × interval} in nanoseconds, capped at {@link #MAX_CAPACITY_NANOS}. */
  public static long capacityNanos(Limit limit) {
    return limit.capacityNanos(); // computed once per limit
  }

  private static long intervalNanos(Limit limit) {
    return Math.min(limit.emissionIntervalNanos(), MAX_CAPACITY_NANOS);
  }

  private static long costNanos(long cost, Limit limit) {
    long capacity = limit.capacityNanos();
    // One token (the commonest cost) needs no product: the interval is at most the capacity.
    return cost == 1 ? Math.min(intervalNanos(limit), capacity)
        : Math.min(Limit.saturatedProduct(cost, intervalNanos(limit)), capacity);
  }

  private static long debt(long tat, long now) {
    return tat <= now ? 0 : tat - now;
  }

  static void checkCost(long cost, Limit limit) {
    if (cost < 1 || cost > limit.burst()) {
      throw new IllegalArgumentException(
          "cost must be between 1 and the burst of limit \"" + limit.text() + "\" (" + limit.burst()
              + "), got " + cost);
    }
  }
}
