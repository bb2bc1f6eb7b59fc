package dev.sluice.store;

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
}
