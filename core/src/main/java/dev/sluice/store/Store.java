package dev.sluice.store;

import java.util.concurrent.CompletionStage;

/**
 * Where bucket state lives: the embedded memory store or a shared one (Redis). The SPI every
 * backend implements and one contract test suite checks.
 *
 * <p>Decisions are atomic per bucket: under any concurrency the number of tokens consumed never
 * exceeds what the bucket's limits allow. Stores that do I/O complete the returned stage on their
 * own threads and never block the caller; the memory store completes it before returning.
 *
 * <p>Failure: a store that cannot decide completes the stage exceptionally with a
 * {@link StoreException}; the engine then applies the policy's {@code on_error}.
 */
public interface Store extends AutoCloseable {

  /**
   * Atomically consumes {@code cost} tokens from every limit of the bucket, or none if any limit
   * lacks them.
   *
   * @param key the bucket
   * @param spec its limits and algorithm (always the same for a given key)
   * @param cost tokens to consume, at least 1 and at most every limit's burst
   */
  CompletionStage<Consumption> tryConsume(BucketKey key, BucketSpec spec, long cost);

  /** Completes normally while the store answers; exceptionally with a {@link StoreException} otherwise. */
  CompletionStage<Void> ping();

  /** Releases connections and threads. Idempotent. */
  @Override
  void close();
}
