package dev.sluice.engine;

import dev.sluice.policy.Policy;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Store;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What a forwarded request holds until its exchange ends: count reservations (tokens consumed at
 * decide time, refunded unless the upstream's status matches) and concurrency permits.
 *
 * <p>Each reservation is settled exactly once, by whichever of {@link #onResponse} (keep or
 * refund) or {@link #release} (refund) wins its compare-and-set, so concurrent calls can never
 * refund twice. Permits are returned by the one {@link #release} call that wins {@code released}.
 * Store failures are ignored: a lost refund over-counts (the conservative direction) and a lost
 * permit release is bounded by the permit's lease.
 */
final class Settlement {

  /** Tokens one count policy took for this request. */
  static final class Reservation {
    final Policy policy;
    final BucketKey key;
    final BucketSpec spec;
    final AtomicBoolean settled = new AtomicBoolean();

    Reservation(Policy policy, BucketKey key, BucketSpec spec) {
      this.policy = policy;
      this.key = key;
      this.spec = spec;
    }
  }

  private final Store store;
  private final List<Reservation> reservations;
  private final List<String> permits;
  private final AtomicBoolean responded = new AtomicBoolean();
  private final AtomicBoolean released = new AtomicBoolean();

  Settlement(Store store, List<Reservation> reservations, List<String> permits) {
    this.store = store;
    this.reservations = reservations;
    this.permits = permits;
  }

  void onResponse(int status) {
    if (!responded.compareAndSet(false, true)) {
      return;
    }
    for (Reservation r : reservations) {
      if (r.settled.compareAndSet(false, true) && !r.policy.counts(status)) {
        refund(store, r.key, r.spec, r.policy.cost());
      }
    }
  }

  void release() {
    if (!released.compareAndSet(false, true)) {
      return;
    }
    for (Reservation r : reservations) {
      if (r.settled.compareAndSet(false, true)) {
        refund(store, r.key, r.spec, r.policy.cost());
      }
    }
    for (String permit : permits) {
      try {
        store.releasePermit(permit);
      } catch (RuntimeException e) {
        // the lease ends it
      }
    }
  }

  boolean released() {
    return released.get();
  }

  /** A refund whose failure is ignored (see the class comment). */
  static void refund(Store store, BucketKey key, BucketSpec spec, long cost) {
    try {
      store.refund(key, spec, cost);
    } catch (RuntimeException e) {
      // over-counting is the safe direction
    }
  }
}
