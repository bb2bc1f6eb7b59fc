package dev.sluice.store;

import dev.sluice.algorithm.Admission;
import dev.sluice.algorithm.Algorithm;
import dev.sluice.algorithm.Gcra;
import dev.sluice.algorithm.SlidingWindow;
import dev.sluice.limit.Limit;
import dev.sluice.time.Clock;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The embedded, bounded store: buckets in a {@link ConcurrentHashMap} per policy, keyed by the
 * identity text, each decided by the {@link Gcra} or {@link SlidingWindow} step. Every stage it
 * returns is already complete.
 *
 * <p>Concurrency: decisions on one bucket are atomic (never over-admit) and different buckets
 * proceed in parallel. A bucket of one GCRA limit (the commonest kind) is a single {@code tat}
 * decided lock-free: an admission is one compare-and-set, a refusal only reads it, so a flood of
 * refused requests on one key never contends. Other buckets (several limits, the sliding window)
 * are decided under their own lock, with time read inside it so each sees a non-decreasing clock;
 * a lock-free decision reads time just before its compare-and-set, and a retry after losing a race
 * only ever sees an older {@code now} against a newer {@code tat}, which overstates the debt: it
 * can refuse a hair early, never admit more.
 *
 * <p>Bound: the store never holds more than {@code maxKeys} buckets (SPEC §3).
 *
 * <p>Abuse control: refunds run under the bucket's lock like decisions. Offence counts, bans and
 * concurrency permits live in their own maps, each updated atomically per key with
 * {@link ConcurrentHashMap#compute}. Offence records and bans are bounded by {@code maxKeys} too
 * (expired ones are dropped first, then the oldest); permits exist only while requests are in
 * flight (or until their lease ends). Ban expiry is wall-clock time from the injected
 * {@link InstantSource}; everything else uses the {@link Clock}.
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
 * A locked bucket is removed under its own lock and marked `removed`; a one-limit GCRA cell is
 * removed by a compare-and-set of its tat to REMOVED. Either way a decision that raced with the
 * removal sees the mark and starts over with a new bucket, so no consumption is ever applied to a
 * bucket that has left the map; whoever marks a bucket removed frees its slot, exactly once.
 * The sweep reads each bucket's fullAt without locking: a cell's tat is its fullAt, a locked bucket
 * publishes `fullAt` (volatile, store time) after every decision; a bucket that has not decided yet
 * counts as fullAt = MAX_VALUE (not full, evicted last).
 *
 * Memory: per identity one map node, the identity text (the key) and the bucket; a one-limit GCRA
 * cell is a header and one long. Keying by identity text inside a per-policy map, rather than by a
 * (policy, identity) object, saves that object per identity.
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
  /** Policy name → identity text → bucket. */
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, Bucket>> byPolicy =
      new ConcurrentHashMap<>();
  private final int initialCapacity;
  private final AtomicLong reserved = new AtomicLong();
  private final LongAdder evictions = new LongAdder();
  private final Object sweepLock = new Object();
  private final InstantSource wallClock;
  private final ConcurrentHashMap<String, Offences> offences = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Ban> bans = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Permits> permits = new ConcurrentHashMap<>();

  /** Offence timestamps kept per key; the count saturates here (escalation has long reached max). */
  static final int MAX_OFFENCES_PER_KEY = 1024;

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
    this(clock, maxKeys, InstantSource.system());
  }

  /**
   * @param clock the time source of every decision, offence window and permit lease
   * @param maxKeys the most buckets ever held (at least 1); also bounds offence records and bans
   * @param wallClock the wall clock ban expiry ({@link Ban#expiresAtEpochMillis()}) is compared to
   * @throws IllegalArgumentException when {@code maxKeys < 1}
   */
  public MemoryStore(Clock clock, long maxKeys, InstantSource wallClock) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.wallClock = Objects.requireNonNull(wallClock, "wallClock");
    if (maxKeys < 1) {
      throw new IllegalArgumentException("store max_keys must be at least 1, got " + maxKeys);
    }
    this.maxKeys = maxKeys;
    this.batch = (int) Math.max(1, Math.min(maxKeys >>> 7, MAX_BATCH));
    this.initialCapacity = (int) Math.min(maxKeys, 1 << 16);
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
    return CompletableFuture.completedFuture(tryConsumeNow(key, spec, cost));
  }

  /**
   * {@inheritDoc}
   *
   * <p>Never null: the memory store always answers in the caller's thread.
   *
   * @throws IllegalArgumentException as {@link #tryConsume} does
   */
  @Override
  public Consumption tryConsumeNow(BucketKey key, BucketSpec spec, long cost) {
    Objects.requireNonNull(key, "key");
    checkCost(spec, cost);
    ConcurrentHashMap<String, Bucket> buckets = bucketsOf(key.policy());
    String identity = key.identity();
    boolean one = isOneGcraLimit(spec);
    while (true) {
      Bucket bucket = buckets.get(identity);
      if (bucket == null) {
        bucket = insert(buckets, identity, one, spec);
      } else if (!bucket.decides(spec)) {
        // A reload changed this policy's limits: carry the state over (LimitChange), in place.
        Bucket stale = bucket;
        buckets.computeIfPresent(identity, (k, current) -> {
          Bucket carried = current == stale ? stale.carryTo(spec, now()) : null;
          return carried != null ? carried : current;
        });
        continue;
      }
      Consumption answer = one
          ? ((Cell) bucket).consume(cost, spec.limits().get(0), this)
          : ((Locked) bucket).consume(spec, cost, this);
      if (answer != null) {
        return answer;
      }
      buckets.remove(identity, bucket); // dropped by a sweep after we found it: decide afresh
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Exact: a refund right after the admission it undoes restores the bucket's previous state
   * (GCRA: {@code tat - cost × T}, floored at now, which is what the old state has decayed to; the
   * sliding window: the entries just appended). When other admissions came in between, GCRA is
   * still exact (its state is a sum); the sliding window removes the newest entries, which are the
   * later request's timestamps, so the entries left are a little older than the ones truly
   * counted and free up that much sooner (at most the time between the two admissions).
   */
  @Override
  public CompletionStage<Void> refund(BucketKey key, BucketSpec spec, long cost) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(spec, "spec");
    checkCost(spec, cost);
    ConcurrentHashMap<String, Bucket> buckets = byPolicy.get(key.policy());
    Bucket bucket = buckets == null ? null : buckets.get(key.identity());
    if (bucket instanceof Cell cell) {
      if (isOneGcraLimit(spec)) {
        cell.refund(cost, spec.limits().get(0), now());
      }
    } else if (bucket instanceof Locked locked) {
      synchronized (locked) {
        if (!locked.removed) {
          locked.refund(spec, cost, now());
        }
      }
    }
    return PING;
  }

  /**
   * {@inheritDoc}
   *
   * <p>At most {@value #MAX_OFFENCES_PER_KEY} offences are remembered per key, so the count
   * saturates there.
   */
  @Override
  public CompletionStage<Long> recordOffence(String offenceKey, long windowNanos) {
    Objects.requireNonNull(offenceKey, "offenceKey");
    if (windowNanos < 1) {
      throw new IllegalArgumentException("offence window must be positive, got " + windowNanos + "ns");
    }
    long now = now();
    if (!offences.containsKey(offenceKey) && offences.size() >= maxKeys) {
      trimOffences(now);
    }
    long[] count = new long[1];
    offences.compute(offenceKey, (k, record) -> {
      Offences r = record != null ? record : new Offences();
      count[0] = r.record(now, windowNanos);
      return r;
    });
    return CompletableFuture.completedFuture(count[0]);
  }

  /** Drops expired offence records, then (still full) the one whose last offence is oldest. */
  private void trimOffences(long now) {
    offences.entrySet().removeIf(e -> e.getValue().expired(now));
    if (offences.size() >= maxKeys) {
      offences.entrySet().stream()
          .min(Comparator.comparingLong((Map.Entry<String, Offences> e) -> e.getValue().newest()))
          .ifPresent(e -> offences.remove(e.getKey(), e.getValue()));
    }
  }

  /** {@inheritDoc} Expired bans are dropped first when {@code maxKeys} bans are held. */
  @Override
  public CompletionStage<Void> putBan(Ban ban) {
    Objects.requireNonNull(ban, "ban");
    if (!bans.containsKey(ban.id()) && bans.size() >= maxKeys) {
      long nowMillis = wallClock.millis();
      bans.values().removeIf(b -> !b.activeAt(nowMillis));
      if (bans.size() >= maxKeys) {
        // Still full of live bans: the one ending soonest gives way.
        bans.values().stream()
            .min(Comparator.comparingLong(Ban::expiresAtEpochMillis))
            .ifPresent(b -> bans.remove(b.id(), b));
      }
    }
    bans.put(ban.id(), ban);
    return PING;
  }

  @Override
  public CompletionStage<Boolean> removeBan(String id) {
    Objects.requireNonNull(id, "id");
    Ban removed = bans.remove(id);
    return CompletableFuture.completedFuture(removed != null && removed.activeAt(wallClock.millis()));
  }

  @Override
  public CompletionStage<List<Ban>> listBans() {
    long nowMillis = wallClock.millis();
    List<Ban> live = new ArrayList<>();
    for (Ban ban : bans.values()) {
      if (ban.activeAt(nowMillis)) {
        live.add(ban);
      } else {
        bans.remove(ban.id(), ban);
      }
    }
    return CompletableFuture.completedFuture(List.copyOf(live));
  }

  @Override
  public CompletionStage<Boolean> acquirePermit(String key, int max, long leaseNanos) {
    Objects.requireNonNull(key, "key");
    if (max < 1 || leaseNanos < 1) {
      throw new IllegalArgumentException(
          "a permit needs max >= 1 and a positive lease, got max " + max + " and lease " + leaseNanos + "ns");
    }
    long now = now();
    boolean[] acquired = new boolean[1];
    permits.compute(key, (k, held) -> {
      Permits p = held != null ? held : new Permits();
      acquired[0] = p.acquire(now, max, leaseNanos);
      return p.isEmpty() ? null : p;
    });
    return CompletableFuture.completedFuture(acquired[0]);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Permits carry no owner, so the lease ending soonest is the one returned; a release after
   * the caller's own lease already ended therefore frees another holder's permit early (only
   * after a request outlived its lease, which the lease length is chosen to prevent).
   */
  @Override
  public CompletionStage<Void> releasePermit(String key) {
    Objects.requireNonNull(key, "key");
    permits.computeIfPresent(key, (k, p) -> p.release() ? p : null);
    return PING;
  }

  /** Permits currently held for {@code key} (expired leases excluded); for tests and diagnostics. */
  public int permitsHeld(String key) {
    Permits p = permits.get(key);
    if (p == null) {
      return 0;
    }
    synchronized (p) {
      return p.live(now());
    }
  }

  /** Keys with permits held or leased; drops to 0 when every permit was released. */
  public int permitKeys() {
    return permits.size();
  }

  /** Completes normally: the memory store always answers. */
  @Override
  public CompletionStage<Void> ping() {
    return PING;
  }

  /**
   * Snapshot export ({@code store.snapshot}, see {@link MemorySnapshot}): every bucket that is not
   * full and every offence record, times relative to now. Bans are read with {@link #listBans()};
   * permits are not exported (their requests end with the process). Weakly consistent under
   * concurrent decisions; meant for a drained gateway.
   */
  public void exportState(java.util.function.Consumer<BucketState> buckets,
      java.util.function.Consumer<BucketState.Offences> offenceRecords) {
    long now = now();
    byPolicy.forEach((policy, map) -> map.forEach((identity, bucket) -> {
      BucketState state = bucket.export(policy, identity, now);
      if (state != null) {
        buckets.accept(state);
      }
    }));
    for (String key : offences.keySet()) {
      offences.computeIfPresent(key, (k, r) -> {
        long[] ages = r.times.stream().mapToLong(t -> now - t).toArray();
        offenceRecords.accept(new BucketState.Offences(k, r.window, ages));
        return r;
      });
    }
  }

  /**
   * Snapshot import: adds {@code state} as a bucket unless one exists for its key already; false
   * when it was not added. Respects {@code maxKeys} like any new bucket.
   */
  public boolean importBucket(BucketState state) {
    long now = now();
    ConcurrentHashMap<String, Bucket> buckets = bucketsOf(state.policy());
    if (buckets.containsKey(state.identity())) {
      return false;
    }
    BucketSpec spec = state.spec();
    long[] tats = null;
    SlidingWindow.Log[] logs = null;
    if (state.debts() != null) {
      tats = new long[state.debts().length];
      for (int i = 0; i < tats.length; i++) {
        tats[i] = state.debts()[i] > 0 ? now + state.debts()[i] : Gcra.FRESH;
      }
    } else {
      logs = new SlidingWindow.Log[state.ages().length];
      for (int i = 0; i < logs.length; i++) {
        long[] stamps = state.ages()[i].clone();
        for (int k = 0; k < stamps.length; k++) {
          stamps[k] = now - stamps[k];
        }
        logs[i] = SlidingWindow.of(spec.limits().get(i), stamps);
      }
    }
    reserveSlot();
    if (buckets.putIfAbsent(state.identity(), Bucket.of(spec, tats, logs, now)) != null) {
      reserved.decrementAndGet();
      return false;
    }
    return true;
  }

  /** Snapshot import: adds an offence record unless one exists for its key. */
  public void importOffences(BucketState.Offences record) {
    long now = now();
    if (offences.size() >= maxKeys) {
      trimOffences(now);
    }
    offences.computeIfAbsent(record.key(), k -> {
      Offences r = new Offences();
      r.window = record.windowNanos();
      for (long age : record.ages()) {
        r.times.addLast(now - age);
      }
      return r;
    });
  }

  /** Nothing to release; idempotent. Buckets stay usable. */
  @Override
  public void close() {}

  /** Buckets currently held (never more than {@code maxKeys}). */
  public long size() {
    long size = 0;
    for (ConcurrentHashMap<String, Bucket> buckets : byPolicy.values()) {
      size += buckets.mappingCount();
    }
    return size;
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

  private static boolean isOneGcraLimit(BucketSpec spec) {
    return spec.algorithm() == Algorithm.GCRA && spec.limits().size() == 1;
  }

  private ConcurrentHashMap<String, Bucket> bucketsOf(String policy) {
    ConcurrentHashMap<String, Bucket> buckets = byPolicy.get(policy);
    if (buckets == null) {
      buckets = byPolicy.computeIfAbsent(policy, p -> new ConcurrentHashMap<>(initialCapacity));
    }
    return buckets;
  }

  private static void checkCost(BucketSpec spec, long cost) {
    List<Limit> limits = spec.limits();
    for (int i = 0, n = limits.size(); i < n; i++) {
      Limit limit = limits.get(i);
      long capacity = spec.algorithm() == Algorithm.GCRA ? limit.burst() : limit.quantity();
      if (cost < 1 || cost > capacity) {
        throw new IllegalArgumentException(
            "cost must be between 1 and the capacity of limit \"" + limit.text() + "\" ("
                + capacity + "), got " + cost);
      }
    }
  }

  private Bucket insert(
      ConcurrentHashMap<String, Bucket> buckets, String identity, boolean one, BucketSpec spec) {
    reserveSlot();
    Bucket fresh = one ? new Cell(spec.limits().get(0), Gcra.FRESH) : new Locked(spec);
    Bucket existing = buckets.putIfAbsent(identity, fresh);
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
    for (ConcurrentHashMap<String, Bucket> buckets : byPolicy.values()) {
      for (Map.Entry<String, Bucket> entry : buckets.entrySet()) {
        Bucket bucket = entry.getValue();
        long fullAt = bucket.fullAt();
        if (fullAt <= now) {
          if (remove(buckets, entry.getKey(), bucket, now, Removal.IF_FULL)) {
            freed++;
          }
        } else if (closest.size() < batch) {
          closest.add(new Candidate(fullAt, buckets, entry.getKey(), bucket));
        } else if (fullAt < closest.peek().fullAt) {
          closest.poll();
          closest.add(new Candidate(fullAt, buckets, entry.getKey(), bucket));
        }
      }
    }
    if (freed >= batch) {
      return;
    }
    List<Candidate> nearest = new ArrayList<>(closest);
    nearest.sort((a, b) -> Long.compare(a.fullAt, b.fullAt));
    for (Candidate c : nearest) {
      if (freed >= batch) {
        break;
      }
      if (remove(c.buckets, c.identity, c.bucket, now, Removal.EVICT)) {
        freed++;
      }
    }
  }

  /** Why a bucket leaves the map. */
  private enum Removal {
    /** The sweep drops a full bucket (no decision changes); skipped if it consumed meanwhile. */
    IF_FULL,
    /** The sweep drops a bucket that may not be full: counted as an eviction when it is not. */
    EVICT,
    /** A reload changed the bucket's kind; its state is discarded, not counted as an eviction. */
    REPLACE
  }

  /** Marks a bucket removed and frees its slot, unless someone else did; see the design note. */
  private boolean remove(
      ConcurrentHashMap<String, Bucket> buckets, String identity, Bucket bucket, long now, Removal why) {
    Boolean wasFull = bucket.markRemoved(now, why != Removal.IF_FULL);
    if (wasFull == null) {
      return false;
    }
    buckets.remove(identity, bucket);
    reserved.decrementAndGet();
    if (!wasFull && why == Removal.EVICT) {
      evictions.increment();
    }
    return true;
  }

  private record Candidate(
      long fullAt, ConcurrentHashMap<String, Bucket> buckets, String identity, Bucket bucket) {}

  /** One key's recent offences (store time), oldest first; guarded by the map's compute. */
  private static final class Offences {
    private final ArrayDeque<Long> times = new ArrayDeque<>();
    private long window;

    long record(long now, long windowNanos) {
      window = windowNanos;
      while (!times.isEmpty() && now - times.peekFirst() >= windowNanos) {
        times.pollFirst();
      }
      if (times.size() == MAX_OFFENCES_PER_KEY) {
        times.pollFirst();
      }
      times.addLast(now);
      return times.size();
    }

    long newest() {
      Long last = times.peekLast();
      return last == null ? Long.MIN_VALUE : last;
    }

    boolean expired(long now) {
      return times.isEmpty() || now - newest() >= window;
    }
  }

  /** Lease ends of the permits held for one key; guarded by the map's compute. */
  private static final class Permits {
    private long[] leaseEnds = new long[4];
    private int count;

    synchronized boolean acquire(long now, int max, long leaseNanos) {
      purge(now);
      if (count >= max) {
        return false;
      }
      if (count == leaseEnds.length) {
        leaseEnds = Arrays.copyOf(leaseEnds, count * 2);
      }
      leaseEnds[count++] = now + leaseNanos;
      return true;
    }

    /** Returns the permit whose lease ends soonest; false when none is left. */
    synchronized boolean release() {
      if (count > 0) {
        int soonest = 0;
        for (int i = 1; i < count; i++) {
          if (leaseEnds[i] < leaseEnds[soonest]) {
            soonest = i;
          }
        }
        leaseEnds[soonest] = leaseEnds[--count];
      }
      return count > 0;
    }

    synchronized int live(long now) {
      purge(now);
      return count;
    }

    synchronized boolean isEmpty() {
      return count == 0;
    }

    private void purge(long now) {
      for (int i = 0; i < count; ) {
        if (leaseEnds[i] <= now) {
          leaseEnds[i] = leaseEnds[--count];
        } else {
          i++;
        }
      }
    }
  }

  /** One identity's state under one policy. */
  private abstract static class Bucket {
    /** When the bucket is full again (store time); MAX_VALUE before its first decision. */
    abstract long fullAt();

    /**
     * Marks the bucket removed if it is full at {@code now}, or whatever its state when {@code
     * evenIfNotFull}: whether it was full, or null when it was not removed (already removed, or
     * not full and not to be evicted).
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

    static Bucket of(BucketSpec spec, long[] tats, SlidingWindow.Log[] logs, long now) {
      if (isOneGcraLimit(spec)) {
        return new Cell(spec.limits().get(0), tats[0]);
      }
      Locked locked = new Locked(spec);
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

    static Bucket carried(BucketSpec old, long[] tats, SlidingWindow.Log[] logs, BucketSpec next, long now) {
      return next.algorithm() == Algorithm.GCRA
          ? of(next, LimitChange.tats(now, old, tats, logs, next), null, now)
          : of(next, null, LimitChange.logs(now, old, tats, logs, next), now);
    }
  }

  /**
   * A bucket of one GCRA limit: its {@code tat}, decided lock-free (see the class comment).
   * {@link Gcra#FRESH} means never decided; {@link #REMOVED} means dropped from the map (no real
   * tat reaches it: store time stays below 2^62 and a capacity below 2^61).
   */
  private static final class Cell extends Bucket {
    static final long REMOVED = Long.MAX_VALUE;
    private static final VarHandle TAT;

    static {
      try {
        TAT = MethodHandles.lookup().findVarHandle(Cell.class, "tat", long.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    volatile long tat;
    /** The limit this cell's tat counts for. */
    final Limit limit;

    Cell(Limit limit, long tat) {
      this.limit = limit;
      this.tat = tat;
    }

    @Override
    boolean decides(BucketSpec spec) {
      return isOneGcraLimit(spec) && LimitChange.same(limit, spec.limits().get(0));
    }

    @Override
    BucketState export(String policy, String identity, long now) {
      long tat = this.tat;
      if (tat == REMOVED || tat == Gcra.FRESH || tat <= now) {
        return null;
      }
      return new BucketState(policy, identity, new BucketSpec(Algorithm.GCRA, List.of(limit)),
          new long[] {tat - now}, null);
    }

    @Override
    Bucket carryTo(BucketSpec spec, long now) {
      while (true) {
        long tat = this.tat;
        if (tat == REMOVED) {
          return null;
        }
        if (TAT.compareAndSet(this, tat, REMOVED)) {
          return carried(new BucketSpec(Algorithm.GCRA, List.of(limit)), new long[] {tat}, null, spec, now);
        }
      }
    }

    /** The decision, or null when the cell was removed (the caller starts over). */
    Consumption consume(long cost, Limit limit, MemoryStore store) {
      long now = store.now();
      while (true) {
        long tat = this.tat;
        if (tat == REMOVED) {
          return null;
        }
        long retry = Gcra.retryAfter(tat, now, cost, limit);
        if (retry > 0) {
          return status(false, retry, tat, now, limit); // refused: nothing to write
        }
        long next = Gcra.admit(tat, now, cost, limit);
        if (TAT.compareAndSet(this, tat, next)) {
          return status(true, 0, next, now, limit);
        }
        now = store.now();
      }
    }

    private static Consumption status(boolean allowed, long retry, long tat, long now, Limit limit) {
      return Consumption.ofOne(allowed, retry, Gcra.remaining(tat, now, limit),
          Gcra.nanosToNextToken(tat, now, limit), Gcra.nanosToFull(tat, now));
    }

    void refund(long cost, Limit limit, long now) {
      while (true) {
        long tat = this.tat;
        if (tat == REMOVED || tat <= now) {
          return; // gone, or already full: nothing to give back
        }
        if (TAT.compareAndSet(this, tat, Gcra.refund(tat, now, cost, limit))) {
          return;
        }
      }
    }

    @Override
    long fullAt() {
      long tat = this.tat;
      return tat == Gcra.FRESH ? Long.MAX_VALUE : tat;
    }

    @Override
    Boolean markRemoved(long now, boolean evenIfNotFull) {
      while (true) {
        long tat = this.tat;
        if (tat == REMOVED) {
          return null;
        }
        boolean full = tat != Gcra.FRESH && tat <= now;
        if (!full && !evenIfNotFull) {
          return null; // consumed since the sweep read it
        }
        if (TAT.compareAndSet(this, tat, REMOVED)) {
          return full;
        }
      }
    }
  }

  /** A bucket of several limits or of the sliding window; every field but fullAt under its lock. */
  private static final class Locked extends Bucket {
    volatile long fullAt = Long.MAX_VALUE;
    boolean removed;
    /** The spec this bucket's state counts for. */
    final BucketSpec spec;

    Locked(BucketSpec spec) {
      this.spec = spec;
    }

    @Override
    boolean decides(BucketSpec spec) {
      return !isOneGcraLimit(spec) && LimitChange.same(this.spec, spec);
    }

    @Override
    synchronized BucketState export(String policy, String identity, long now) {
      if (removed || fullAt <= now || (tats == null && logs == null)) {
        return null;
      }
      int n = spec.limits().size();
      if (tats != null && tats.length == n) {
        long[] debts = new long[n];
        for (int i = 0; i < n; i++) {
          debts[i] = tats[i] == Gcra.FRESH ? 0 : Math.max(0, tats[i] - now);
        }
        return new BucketState(policy, identity, spec, debts, null);
      }
      if (logs != null && logs.length == n) {
        long[][] ages = new long[n][];
        for (int i = 0; i < n; i++) {
          long[] stamps = logs[i] == null ? new long[0] : SlidingWindow.timestamps(logs[i]);
          for (int k = 0; k < stamps.length; k++) {
            stamps[k] = now - stamps[k];
          }
          ages[i] = stamps;
        }
        return new BucketState(policy, identity, spec, null, ages);
      }
      return null;
    }

    @Override
    synchronized Bucket carryTo(BucketSpec next, long now) {
      if (removed) {
        return null;
      }
      removed = true;
      return carried(spec, tats, logs, next, now);
    }
    long[] tats; // GCRA state, one per limit
    SlidingWindow.Log[] logs; // sliding-window state, one per limit

    @Override
    long fullAt() {
      return fullAt;
    }

    @Override
    synchronized Boolean markRemoved(long now, boolean evenIfNotFull) {
      if (removed) {
        return null;
      }
      boolean full = fullAt <= now;
      if (!full && !evenIfNotFull) {
        return null; // consumed since the sweep read it
      }
      removed = true;
      return full;
    }

    /** The decision, or null when the bucket was removed (the caller starts over). */
    synchronized Consumption consume(BucketSpec spec, long cost, MemoryStore store) {
      return removed ? null : consume(spec, cost, store.now());
    }

    /** Undoes an admitted consumption of {@code cost}; see {@link MemoryStore#refund}. */
    void refund(BucketSpec spec, long cost, long now) {
      List<Limit> limits = spec.limits();
      int n = limits.size();
      long full = Long.MIN_VALUE;
      if (spec.algorithm() == Algorithm.GCRA) {
        if (tats == null || tats.length != n) {
          return; // the spec changed since the admission: nothing of it is left to give back
        }
        for (int i = 0; i < n; i++) {
          tats[i] = Gcra.refund(tats[i], now, cost, limits.get(i));
          full = Math.max(full, tats[i]);
        }
      } else {
        if (logs == null || logs.length != n) {
          return;
        }
        for (int i = 0; i < n; i++) {
          SlidingWindow.Log log = logs[i];
          if (log == null || log.quantity() != limits.get(i).quantity()) {
            continue;
          }
          log.removeNewest(cost);
          full = Math.max(full, now + SlidingWindow.nanosToFull(log, now, limits.get(i)));
        }
      }
      fullAt = full;
    }

    private Consumption consume(BucketSpec spec, long cost, long now) {
      List<Limit> limits = spec.limits();
      int n = limits.size();
      LimitStatus[] statuses = new LimitStatus[n];
      Admission admission;
      long full = Long.MIN_VALUE;
      if (spec.algorithm() == Algorithm.GCRA) {
        // A reload that changes the number of limits starts the bucket afresh.
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
