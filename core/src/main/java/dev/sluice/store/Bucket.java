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
}
