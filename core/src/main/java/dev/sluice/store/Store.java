package dev.sluice.store;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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
 *
 * <p>Abuse control (SPEC §7) adds refunds, offence counting, bans and concurrency permits. Both
 * built-in stores ({@link MemoryStore} and the Redis store) implement them all. They are optional
 * for a store written by a library user who needs only rate limits: the {@code default}s fail
 * with a {@link StoreException} ("… is not supported by …"), which the engine treats like any
 * store failure ({@code on_error}); the engine calls them only for policy sets that use the
 * matching feature, so a plain policy set works with a minimal store.
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

  /**
   * {@link #tryConsume} for a store that decides in the caller's thread: the answer itself, with
   * no stage to allocate and complete (the engine's hot path tries this first). A store that does
   * I/O returns {@code null} (the default), and the caller then uses {@link #tryConsume}.
   *
   * @return the answer, or {@code null} when this store only answers asynchronously
   * @throws RuntimeException whatever {@link #tryConsume} would have failed its stage with
   */
  default Consumption tryConsumeNow(BucketKey key, BucketSpec spec, long cost) {
    return null;
  }

  /**
   * {@link #tryConsumeNow} that may answer with a {@linkplain Consumption#live() live} answer,
   * shared by every decision of the bucket with the same outcome, so that the commonest answers
   * allocate nothing. For the engine's {@code decideNow} path; its caller reads the numbers on
   * its own thread right away or takes a {@link Consumption#snapshot()}. Default: {@link
   * #tryConsumeNow}.
   *
   * @return the answer, or {@code null} when this store only answers asynchronously
   * @throws RuntimeException whatever {@link #tryConsume} would have failed its stage with
   */
  default Consumption tryConsumeShared(BucketKey key, BucketSpec spec, long cost) {
    return tryConsumeNow(key, spec, cost);
  }

  /**
   * Decides again on the bucket a {@linkplain Consumption#live() live} answer of this store came
   * from (same spec, same cost), skipping the lookup by key; {@code null} — nothing consumed — when
   * it cannot ({@code previous} is not one of its live answers, or its bucket was removed or
   * changed), and the caller then uses {@link #tryConsumeShared}. Default: {@code null}.
   */
  default Consumption tryConsumeAgain(Consumption previous, BucketSpec spec, long cost) {
    return null;
  }

  /**
   * Tells the store the names of the policies an engine decides with (the {@code default} policy
   * included); the engine calls it once when it is built. A hint for bounded stores: the memory
   * store gives each policy an equal share of its bound on buckets, offence records and penalty
   * bans, so invented identities under one policy never take the room of another. Others may
   * ignore it (the default does). Must not block or throw.
   */
  default void usePolicies(Collection<String> policies) {}

  /** Completes normally while the store answers; exceptionally with a {@link StoreException} otherwise. */
  CompletionStage<Void> ping();

  /**
   * Gives back {@code cost} tokens taken by an earlier <em>admitted</em> {@link #tryConsume} on the
   * same bucket, as if that request had not happened: GCRA moves every limit's {@code tat} back by
   * {@code cost × T} but never below "full" (now); the sliding window removes the newest
   * {@code cost} entries of every limit. A bucket that no longer exists (evicted, expired, or its
   * spec changed) is left alone. Used by {@code count:} (reserve before forwarding, refund when the
   * upstream's status does not match) and by refused concurrency permits.
   *
   * @param cost the cost of the admitted request being undone
   */
  default CompletionStage<Void> refund(BucketKey key, BucketSpec spec, long cost) {
    return unsupported("refund");
  }

  /**
   * Atomically records one offence for {@code offenceKey} and returns how many offences the key
   * has within the last {@code windowNanos} (store time), this one included: 1 for the first.
   */
  default CompletionStage<Long> recordOffence(String offenceKey, long windowNanos) {
    return unsupported("recordOffence");
  }

  /**
   * Forgets the bucket {@code key} (every limit of {@code spec}): the identity's next request
   * finds it full, as if it had never been seen. Used when an operator lifts a ban, so that the
   * bucket that tripped it does not refuse (and re-ban) the very next request. A bucket that does
   * not exist is left alone.
   */
  default CompletionStage<Void> forgetBucket(BucketKey key, BucketSpec spec) {
    return unsupported("forgetBucket");
  }

  /**
   * Forgets every offence recorded for {@code offenceKey}: the next {@link #recordOffence} on it
   * counts 1 again. Used when an operator lifts a ban without keeping its history.
   */
  default CompletionStage<Void> forgetOffences(String offenceKey) {
    return unsupported("forgetOffences");
  }

  /**
   * How many times this store has found its shared state erased since it was opened (Redis
   * {@code FLUSHALL}/{@code FLUSHDB}, a restart without persistence, a failover to an empty
   * replica), noticed while {@link #listBans()} runs. Every ban and bucket is then gone; the
   * caller may write again the bans it still knows. 0 for stores that cannot lose their state
   * behind the gateway's back (the memory store) or cannot tell.
   */
  default long resets() {
    return 0;
  }

  /** Stores {@code ban}, replacing any ban with the same id. Visible to every instance. */
  default CompletionStage<Void> putBan(Ban ban) {
    return unsupported("putBan");
  }

  /** Removes the ban with {@code id}; completes with whether an unexpired ban was removed. */
  default CompletionStage<Boolean> removeBan(String id) {
    return unsupported("removeBan");
  }

  /** Every unexpired ban (any order). */
  default CompletionStage<List<Ban>> listBans() {
    return unsupported("listBans");
  }

  /**
   * Takes one of at most {@code max} concurrent permits for {@code key}; completes with false when
   * all are taken. A permit not released within {@code leaseNanos} is dropped, so an instance that
   * crashes mid-request cannot hold a permit forever.
   */
  default CompletionStage<Boolean> acquirePermit(String key, int max, long leaseNanos) {
    return unsupported("acquirePermit");
  }

  /** Returns one permit of {@code key} taken by {@link #acquirePermit}. */
  default CompletionStage<Void> releasePermit(String key) {
    return unsupported("releasePermit");
  }

  /** A stage failed because this store does not implement {@code operation} yet. */
  private <T> CompletionStage<T> unsupported(String operation) {
    return CompletableFuture.failedFuture(
        new StoreException(operation + " is not supported by " + getClass().getName()));
  }

  /** Releases connections and threads. Idempotent. */
  @Override
  void close();
}
