package dev.sluice.store;

import java.util.Collection;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The memory store's bound on buckets ({@code store.max_keys}) and its eviction policy: which
 * buckets may leave to make room, and what a new identity gets when none may.
 *
 * <p>Guarantee: <b>a bucket is only ever dropped when it is full</b> — refilled completely, so a
 * fresh bucket would decide exactly as it does. No request of any identity, under any policy, can
 * therefore remove state that still constrains another identity or another policy. When a new
 * identity needs a slot and none can be freed that way, it is refused ({@link StoreFullException},
 * a 503 for the request) rather than admitted untracked.
 *
 * <p>Thread-safe; see the design note.
 */
/*
 * Design.
 * Shares. max_keys is divided into equal shares, one per policy the engine decides with
 * (Store#usePolicies): share = max(1, maxKeys / policies). A policy never holds more buckets than
 * its share, so a flood of invented identities under one policy only competes with that policy's
 * own new identities; other policies keep every slot of theirs. A hard global counter keeps the
 * total at maxKeys also for policies outside the registered set (a custom caller, a reload in
 * progress): the shares of registered policies sum to at most maxKeys, so it binds only then.
 *
 * Reservation. A new bucket reserves a slot in its share, then a global slot (CAS, never above the
 * limit), before it is published, so neither bound is ever exceeded even under concurrent inserts.
 *
 * Sweeps. When a share (or the whole table) has no slot left, one thread sweeps it under its lock:
 * every full bucket (fullAt <= now) is dropped. If that freed fewer than
 * batch = max(1, min(limit / 128, 65536)) slots, sweeping pauses until the batch-th closest bucket
 * of the share will be full, and at most MAX_PAUSE_NANOS: until then a new identity that finds no
 * slot is refused at once, without a scan. So each sweep either frees a batch (about 128 entries
 * visited per new key, amortised) or is followed by a pause (at most one sweep per pause per share
 * while nothing refills), and a flood of new keys against a full share costs O(1) per key.
 * The pause can refuse a new key a little longer than strictly needed (a bucket may refill before
 * the batch-th one); it never drops a bucket that is not full.
 *
 * Removal. A bucket is removed through Bucket#markRemoved (a CAS of a one-limit cell's tat, or a
 * flag under a locked bucket's lock): a decision racing with it sees the mark and starts over with
 * a new bucket, and whoever marks a bucket removed frees its slots, exactly once. The sweep reads
 * fullAt without a lock; a bucket that consumed since is not full any more and markRemoved leaves
 * it alone. A bucket that has not decided yet reads fullAt = MAX_VALUE (not full).
 */
final class BucketTable {

  /** The most slots one sweep tries to free (bounds the sweep's heap). */
  private static final long MAX_BATCH = 65_536;
  /** The longest sweeps pause after a sweep that freed less than a batch. */
  static final long MAX_PAUSE_NANOS = 1_000_000_000L;

  private final long maxKeys;
  private final int initialCapacity;
  private final ConcurrentHashMap<String, Share> byPolicy = new ConcurrentHashMap<>();
  private final AtomicLong reserved = new AtomicLong();
  private final Object globalLock = new Object();
  private volatile long globalPausedUntil = Long.MIN_VALUE;
  private volatile long shareLimit;
  private final LongAdder refused = new LongAdder();

  /** One policy's buckets and its count of reserved slots. */
  static final class Share {
    final String policy;
    /** Identity text → bucket. */
    final ConcurrentHashMap<String, Bucket> buckets;
    final AtomicLong reserved = new AtomicLong();
    /** No sweep of this share before this store time; see the design note. */
    volatile long pausedUntil = Long.MIN_VALUE;
    private volatile StoreFullException full;
    private volatile long fullFor = -1;

    Share(String policy, int initialCapacity) {
      this.policy = policy;
      this.buckets = new ConcurrentHashMap<>(initialCapacity);
    }

    StoreFullException full(long limit) {
      StoreFullException f = full;
      if (f == null || fullFor != limit) {
        f = new StoreFullException(policy, limit);
        full = f;
        fullFor = limit;
      }
      return f;
    }
  }

  /**
   * @param maxKeys the most buckets ever held, at least 1
   */
  BucketTable(long maxKeys) {
    this.maxKeys = maxKeys;
    this.shareLimit = maxKeys;
    this.initialCapacity = (int) Math.min(maxKeys, 1 << 16);
  }

  /**
   * Divides the bound into one share per policy name; policies not named get a share of the same
   * size. Buckets already held are kept: a policy above its new share only gets new slots once it
   * is below it again.
   */
  void usePolicies(Collection<String> policies) {
    shareLimit = Math.max(1, maxKeys / Math.max(1, policies.size()));
  }

  /** The most buckets one policy may hold. */
  long shareLimit() {
    return shareLimit;
  }

  /** The share of {@code policy}, made on first use. */
  Share share(String policy) {
    Share share = byPolicy.get(policy);
    if (share == null) {
      share = byPolicy.computeIfAbsent(policy, p -> new Share(p, initialCapacity));
    }
    return share;
  }

  /** Calls {@code action} with every policy's share (for a snapshot). */
  void forEachShare(java.util.function.Consumer<Share> action) {
    byPolicy.values().forEach(action);
  }

  /** The share of {@code policy}, or null when it never held a bucket. */
  Share shareIfPresent(String policy) {
    return byPolicy.get(policy);
  }

  /**
   * Publishes {@code fresh} as the bucket of {@code identity}, or returns the bucket another thread
   * published first.
   *
   * @throws StoreFullException when no slot is free and none can be freed by dropping full buckets
   */
  Bucket insert(Share share, String identity, Bucket fresh, long now) {
    reserveInShare(share, now);
    try {
      reserveGlobal(share, now);
    } catch (StoreFullException e) {
      share.reserved.decrementAndGet();
      throw e;
    }
    Bucket existing = share.buckets.putIfAbsent(identity, fresh);
    if (existing != null) {
      share.reserved.decrementAndGet();
      reserved.decrementAndGet();
      return existing;
    }
    return fresh;
  }

  /**
   * Takes {@code bucket} out of use and frees its slots, when it is full at {@code now} or {@code
   * evenIfNotFull} (a reload changed its kind: its state is discarded, never by another identity).
   *
   * @return whether this call removed it
   */
  boolean remove(Share share, String identity, Bucket bucket, long now, boolean evenIfNotFull) {
    Boolean wasFull = bucket.markRemoved(now, evenIfNotFull);
    if (wasFull == null) {
      return false;
    }
    share.buckets.remove(identity, bucket);
    share.reserved.decrementAndGet();
    reserved.decrementAndGet();
    return true;
  }

  /** Buckets currently held. */
  long size() {
    long size = 0;
    for (Share share : byPolicy.values()) {
      size += share.buckets.mappingCount();
    }
    return size;
  }

  /** New identities refused because no slot could be freed. */
  long refused() {
    return refused.sum();
  }

  private void reserveInShare(Share share, long now) {
    while (true) {
      long limit = shareLimit;
      long taken = share.reserved.get();
      if (taken < limit) {
        if (share.reserved.compareAndSet(taken, taken + 1)) {
          return;
        }
        continue;
      }
      if (now < share.pausedUntil) {
        refused.increment();
        throw share.full(limit);
      }
      synchronized (share) {
        if (share.reserved.get() >= shareLimit && now >= share.pausedUntil) {
          share.pausedUntil = sweep(new Share[] {share}, now, batch(limit));
        }
      }
      // Slots may be held by inserts still in flight (reserved, not yet in the map).
      Thread.onSpinWait();
    }
  }

  private void reserveGlobal(Share share, long now) {
    while (true) {
      long taken = reserved.get();
      if (taken < maxKeys) {
        if (reserved.compareAndSet(taken, taken + 1)) {
          return;
        }
        continue;
      }
      if (now < globalPausedUntil) {
        refused.increment();
        throw share.full(shareLimit);
      }
      synchronized (globalLock) {
        if (reserved.get() >= maxKeys && now >= globalPausedUntil) {
          globalPausedUntil = sweep(byPolicy.values().toArray(new Share[0]), now, batch(maxKeys));
        }
      }
      Thread.onSpinWait();
    }
  }

  private static int batch(long limit) {
    return (int) Math.max(1, Math.min(limit >>> 7, MAX_BATCH));
  }

  /**
   * Drops every full bucket of {@code shares}; returns until when sweeping them again is pointless
   * (Long.MIN_VALUE: no pause). See the design note.
   */
  private long sweep(Share[] shares, long now, int batch) {
    int freed = 0;
    // The `batch` smallest fullAt of the buckets that stay: a max-heap of at most batch entries.
    PriorityQueue<Long> closest = new PriorityQueue<>((a, b) -> Long.compare(b, a));
    for (Share share : shares) {
      for (Map.Entry<String, Bucket> entry : share.buckets.entrySet()) {
        Bucket bucket = entry.getValue();
        long fullAt = bucket.fullAt();
        if (fullAt <= now) {
          if (remove(share, entry.getKey(), bucket, now, false)) {
            freed++;
          }
        } else if (closest.size() < batch) {
          closest.add(fullAt);
        } else if (fullAt < closest.peek()) {
          closest.poll();
          closest.add(fullAt);
        }
      }
    }
    if (freed >= batch || closest.isEmpty()) {
      // A batch freed, or nothing held but slots of inserts in flight: no pause.
      return Long.MIN_VALUE;
    }
    long batchFull = closest.peek();
    return batchFull - now > MAX_PAUSE_NANOS ? now + MAX_PAUSE_NANOS : batchFull;
  }
}
