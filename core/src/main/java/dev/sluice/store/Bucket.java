package dev.sluice.store;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.algorithm.Gcra;
import dev.sluice.algorithm.SlidingWindow;

/**
 * One identity's state under one policy in the {@link MemoryStore}, as far as the bound on buckets
 * ({@link BucketTable}) needs to know it: when it is full again, and how to take it out of use.
 */
abstract class Bucket {
  /** When the bucket is full again (store time); MAX_VALUE before its first decision. */
  abstract long fullAt();

  /**
   * Marks the bucket removed if it is full at {@code now}, or whatever its state when {@code
   * evenIfNotFull}: whether it was full, or null when it was not removed (already removed, or
   * not full and not to be removed).
   */
  abstract Boolean markRemoved(long now, boolean evenIfNotFull);

  /** Whether this bucket's state was made for {@code spec} (false after a reload changed it). */
  abstract boolean decides(BucketSpec spec);

  /**
   * Marks this bucket removed and returns a bucket for {@code spec} holding its state carried
   * over by {@link LimitChange}; null when it was removed already. The slot passes to the new
   * bucket. Called inside the map's compute for this key.
   */
  abstract Bucket carryTo(BucketSpec spec, long now);

  /** The bucket's state for a snapshot, or null when it is full (nothing worth keeping). */
  abstract BucketState export(String policy, String identity, long now);

  /** A bucket for {@code spec} holding this state: GCRA {@code tats} or sliding-window {@code logs}. */
  static Bucket of(BucketSpec spec, long[] tats, SlidingWindow.Log[] logs, long now) {
    if (isOneGcraLimit(spec)) {
      return new GcraCell(spec.limits().get(0), tats[0]);
    }
    LockedBucket locked = new LockedBucket(spec);
    locked.tats = tats;
    locked.logs = logs;
    long full = Long.MIN_VALUE;
    for (int i = 0; i < spec.limits().size(); i++) {
      full = Math.max(full, tats != null ? tats[i]
          : now + SlidingWindow.nanosToFull(logs[i], now, spec.limits().get(i)));
    }
    locked.fullAt = full == Gcra.FRESH ? Long.MAX_VALUE : full;
    return locked;
  }

  /** A bucket for {@code next} holding the state of one for {@code old}, carried over by {@link LimitChange}. */
  static Bucket carried(BucketSpec old, long[] tats, SlidingWindow.Log[] logs, BucketSpec next, long now) {
    return next.algorithm() == Algorithm.GCRA
        ? of(next, LimitChange.tats(now, old, tats, logs, next), null, now)
        : of(next, null, LimitChange.logs(now, old, tats, logs, next), now);
  }

  /** Whether {@code spec} gets a {@link GcraCell} (one GCRA limit) rather than a {@link LockedBucket}. */
  static boolean isOneGcraLimit(BucketSpec spec) {
    return spec.algorithm() == Algorithm.GCRA && spec.limits().size() == 1;
  }
}
