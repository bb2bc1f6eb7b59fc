package dev.sluice.store;

import dev.sluice.algorithm.Admission;
import dev.sluice.algorithm.Algorithm;
import dev.sluice.algorithm.Gcra;
import dev.sluice.algorithm.SlidingWindow;
import dev.sluice.limit.Limit;
import dev.sluice.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The embedded, bounded store: buckets in a {@link ConcurrentHashMap}, each decided under its own
 * lock by the {@link Gcra} or {@link SlidingWindow} step. Every stage it returns is already
 * complete.
 *
 * <p>Concurrency: a decision locks only its bucket, so decisions on one bucket are serialised
 * (never over-admit) and different buckets proceed in parallel. Time is read inside the lock, so
 * each bucket sees a non-decreasing clock.
 *
 * <p>Bound: the store never holds more than {@code maxKeys} buckets (SPEC §3).
 */
/*
 * Design of the bound. A counter of reserved slots is incremented (CAS, never above maxKeys)
 * before a new bucket is published, so the map can never exceed maxKeys, even under concurrent
 * inserts. When no slot is left, one thread at a time runs a sweep over the map:
 *   1. every bucket that has refilled completely (fullAt <= now) is dropped — this changes no
 *      decision, since a fresh bucket is full too — and is not an eviction;
 *   2. if that freed fewer than `batch` slots, the non-full buckets closest to being full
 *      (smallest fullAt, chosen with a bounded heap) are dropped to make up the difference and are
 *      counted as evictions. At that moment no full bucket is left, as SPEC §3 requires.
 * Each sweep therefore frees at least batch = max(1, min(maxKeys / 128, 65536)) slots, so its
 * O(n log batch) cost is amortised to about 128 map entries visited per new key (for the default
 * 1,000,000 keys: one sweep per 7,812 new keys once full), and steady traffic on known keys never
 * sweeps at all. Under pressure up to `batch` near-full buckets may go in one sweep, slightly ahead
 * of need; that is the price of not scanning the map on every insert.
 * A bucket is removed under its own lock and marked `removed`; a decision that raced with the
 * removal sees the mark after locking and starts over with a new bucket, so no consumption is
 * ever applied to a bucket that has left the map.
 * Each bucket publishes `fullAt` (volatile, store time) after every decision so the sweep reads it
 * without locking; a bucket that has not decided yet has fullAt = MAX_VALUE (not full, evicted
 * last).
 */
public final class MemoryStore implements Store {

  /** The default bound on buckets ({@code store.max_keys}). */
  public static final long DEFAULT_MAX_KEYS = 1_000_000;

  /** The most slots one sweep frees (bounds the sweep's candidate heap). */
  private static final long MAX_BATCH = 65_536;

  private static final CompletionStage<Void> PING = CompletableFuture.completedStage(null);

  private final Clock clock;
  private final long origin;
  private final long maxKeys;
  private final int batch;
  private final ConcurrentHashMap<BucketKey, Bucket> buckets;
  private final AtomicLong reserved = new AtomicLong();
  private final LongAdder evictions = new LongAdder();
  private final Object sweepLock = new Object();

  /** A store bounded to {@link #DEFAULT_MAX_KEYS} buckets. */
  public MemoryStore(Clock clock) {
    this(clock, DEFAULT_MAX_KEYS);
  }

  /**
   * @param clock the time source of every decision
   * @param maxKeys the most buckets ever held (at least 1)
   * @throws IllegalArgumentException when {@code maxKeys < 1}
   */
  public MemoryStore(Clock clock, long maxKeys) {
    this.clock = Objects.requireNonNull(clock, "clock");
    if (maxKeys < 1) {
      throw new IllegalArgumentException("store max_keys must be at least 1, got " + maxKeys);
    }
    this.maxKeys = maxKeys;
    this.batch = (int) Math.max(1, Math.min(maxKeys >>> 7, MAX_BATCH));
    this.buckets = new ConcurrentHashMap<>((int) Math.min(maxKeys, 1 << 16));
    // Measuring from our own origin keeps every store time small and non-negative, far inside
    // the bounds of the algorithms' arithmetic, whatever the clock's own origin.
    this.origin = clock.nanoTime();
  }

  /**
   * {@inheritDoc}
   *
   * <p>Completes before returning. Throws {@link IllegalArgumentException} (a programming error
   * that policy validation prevents) when {@code cost} is below 1 or above a limit's capacity
   * (burst for GCRA, N for the sliding window), or a sliding-window N exceeds {@link
   * SlidingWindow#MAX_QUANTITY}.
   */
  @Override
  public CompletionStage<Consumption> tryConsume(BucketKey key, BucketSpec spec, long cost) {
    Objects.requireNonNull(key, "key");
    checkCost(spec, cost);
    while (true) {
      Bucket bucket = buckets.get(key);
      if (bucket == null) {
        bucket = insert(key);
      }
      synchronized (bucket) {
        if (bucket.removed) {
          continue; // dropped by a sweep after we found it: decide on a new bucket
        }
        return CompletableFuture.completedFuture(bucket.consume(spec, cost, now()));
      }
    }
  }

  /** Completes normally: the memory store always answers. */
  @Override
  public CompletionStage<Void> ping() {
    return PING;
  }

  /** Nothing to release; idempotent. Buckets stay usable. */
  @Override
  public void close() {}

  /** Buckets currently held (never more than {@code maxKeys}). */
  public long size() {
    return buckets.mappingCount();
  }

  /** Buckets dropped before they were full ({@code sluice_store_evictions_total}). */
  public long evictions() {
    return evictions.sum();
  }

  /** The bound this store was created with. */
  public long maxKeys() {
    return maxKeys;
  }

  private long now() {
    return clock.nanoTime() - origin;
  }

  private static void checkCost(BucketSpec spec, long cost) {
    for (Limit limit : spec.limits()) {
      long capacity = spec.algorithm() == Algorithm.GCRA ? limit.burst() : limit.quantity();
      if (cost < 1 || cost > capacity) {
        throw new IllegalArgumentException(
            "cost must be between 1 and the capacity of limit \"" + limit.text() + "\" ("
                + capacity + "), got " + cost);
      }
    }
  }

  private Bucket insert(BucketKey key) {
    reserveSlot();
    Bucket fresh = new Bucket(key);
    Bucket existing = buckets.putIfAbsent(key, fresh);
    if (existing != null) {
      reserved.decrementAndGet();
      return existing;
    }
    return fresh;
  }

  private void reserveSlot() {
    while (true) {
      long taken = reserved.get();
      if (taken < maxKeys) {
        if (reserved.compareAndSet(taken, taken + 1)) {
          return;
        }
        continue;
      }
      synchronized (sweepLock) {
        if (reserved.get() >= maxKeys) {
          sweep();
        }
      }
      // Slots may be held by inserts still in flight (reserved, not yet in the map).
      Thread.onSpinWait();
    }
  }

  /** Frees at least {@code batch} slots when the map holds that many buckets; see the design note. */
  private void sweep() {
    long now = now();
    int freed = 0;
    PriorityQueue<Candidate> closest =
        new PriorityQueue<>(batch, (a, b) -> Long.compare(b.fullAt, a.fullAt)); // max-heap
    for (Bucket bucket : buckets.values()) {
      long fullAt = bucket.fullAt;
      if (fullAt <= now) {
        if (remove(bucket, now, false)) {
          freed++;
        }
      } else if (closest.size() < batch) {
        closest.add(new Candidate(fullAt, bucket));
      } else if (fullAt < closest.peek().fullAt) {
        closest.poll();
        closest.add(new Candidate(fullAt, bucket));
      }
    }
    if (freed >= batch) {
      return;
    }
    List<Candidate> nearest = new ArrayList<>(closest);
    nearest.sort((a, b) -> Long.compare(a.fullAt, b.fullAt));
    for (Candidate candidate : nearest) {
      if (freed >= batch) {
        break;
      }
      if (remove(candidate.bucket, now, true)) {
        freed++;
      }
    }
  }

  /** Removes a bucket under its lock; counts an eviction when it was not full. */
  private boolean remove(Bucket bucket, long now, boolean evictIfNotFull) {
    synchronized (bucket) {
      if (bucket.removed) {
        return false;
      }
      boolean full = bucket.fullAt <= now;
      if (!full && !evictIfNotFull) {
        return false; // consumed since the sweep read it
      }
      bucket.removed = true;
      buckets.remove(bucket.key, bucket);
      reserved.decrementAndGet();
      if (!full) {
        evictions.increment();
      }
      return true;
    }
  }

  private record Candidate(long fullAt, Bucket bucket) {}

  /** One key's state; every field except {@code fullAt} is guarded by the bucket's monitor. */
  private static final class Bucket {
    final BucketKey key;
    volatile long fullAt = Long.MAX_VALUE;
    boolean removed;
    long[] tats; // GCRA state, one per limit
    SlidingWindow.Log[] logs; // sliding-window state, one per limit

    Bucket(BucketKey key) {
      this.key = key;
    }

    Consumption consume(BucketSpec spec, long cost, long now) {
      List<Limit> limits = spec.limits();
      int n = limits.size();
      LimitStatus[] statuses = new LimitStatus[n];
      Admission admission;
      long full = Long.MIN_VALUE;
      if (spec.algorithm() == Algorithm.GCRA) {
        // A reload that changes the number of limits or the algorithm starts the bucket afresh.
        if (tats == null || tats.length != n) {
          tats = new long[n];
          Arrays.fill(tats, Gcra.FRESH);
          logs = null;
        }
        admission = Gcra.consumeAll(tats, now, cost, limits);
        for (int i = 0; i < n; i++) {
          Limit limit = limits.get(i);
          long tat = tats[i];
          statuses[i] =
              new LimitStatus(
                  Gcra.remaining(tat, now, limit),
                  Gcra.nanosToNextToken(tat, now, limit),
                  Gcra.nanosToFull(tat, now));
          full = Math.max(full, tat);
        }
      } else {
        if (logs == null || logs.length != n) {
          logs = new SlidingWindow.Log[n];
          tats = null;
        }
        for (int i = 0; i < n; i++) {
          if (logs[i] == null || logs[i].quantity() != limits.get(i).quantity()) {
            logs[i] = new SlidingWindow.Log(limits.get(i).quantity());
          }
        }
        admission = SlidingWindow.consumeAll(logs, now, cost, limits);
        for (int i = 0; i < n; i++) {
          Limit limit = limits.get(i);
          SlidingWindow.Log log = logs[i];
          long toFull = SlidingWindow.nanosToFull(log, now, limit);
          statuses[i] =
              new LimitStatus(
                  SlidingWindow.remaining(log, now, limit),
                  SlidingWindow.nanosToNextToken(log, now, limit),
                  toFull);
          full = Math.max(full, now + toFull);
        }
      }
      fullAt = full;
      return new Consumption(
          admission.allowed(),
          admission.deniedLimit(),
          admission.retryAfterNanos(),
          List.of(statuses));
    }
  }
}
