package dev.sluice.store;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.algorithm.Gcra;
import dev.sluice.algorithm.SlidingWindow;
import dev.sluice.limit.Limit;
import dev.sluice.time.Clock;
import java.time.InstantSource;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

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
 * <p>Bound: the store never holds more than {@code maxKeys} buckets (SPEC §3), divided into
 * equal shares per policy; only buckets that are full are ever dropped, and a new identity that
 * finds its policy's share full of buckets still in use is refused with a {@link
 * StoreFullException}. See {@link BucketTable}.
 *
 * <p>Abuse control: refunds run under the bucket's lock like decisions. Offence records live in an
 * {@link OffenceTable} and bans in a {@link BanTable}, both bounded per policy like buckets and
 * neither ever evicting a live entry (a new one beyond the bound is refused); concurrency permits
 * live in their own map ({@link PermitTable}), updated atomically per key with {@link
 * ConcurrentHashMap#compute}, and exist only while requests are in flight (or until their lease
 * ends). Ban expiry is wall-clock time from the injected {@link InstantSource}; everything else
 * uses the {@link Clock}.
 *
 * <p>The buckets themselves: {@link GcraCell} (one GCRA limit, lock-free) and {@link
 * LockedBucket} (several limits or the sliding window).
 */
/*
 * The bound and its eviction policy live in BucketTable (read its design note).
 *
 * Memory: per identity one map node, the identity text (the key) and the bucket; a one-limit GCRA
 * cell is a header and one long. Keying by identity text inside a per-policy map, rather than by a
 * (policy, identity) object, saves that object per identity.
 */
public final class MemoryStore implements Store, PenaltyBound {

  /** The default bound on buckets ({@code store.max_keys}). */
  public static final long DEFAULT_MAX_KEYS = 1_000_000;

  private static final CompletionStage<Void> PING = CompletableFuture.completedStage(null);

  private final Clock clock;
  private final long origin;
  private final long maxKeys;
  /** Policy name → identity text → bucket, with the bound. */
  private final BucketTable table;
  private final InstantSource wallClock;
  private final OffenceTable offences;
  private final BanTable bans;
  private final PermitTable permits = new PermitTable();

  /** Offence timestamps kept per key; the count saturates here (escalation has long reached max). */
  static final int MAX_OFFENCES_PER_KEY = OffenceTable.MAX_OFFENCES_PER_KEY;

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
    this.table = new BucketTable(maxKeys);
    this.offences = new OffenceTable(maxKeys);
    this.bans = new BanTable(maxKeys);
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
   * SlidingWindow#MAX_QUANTITY}. Fails with a {@link StoreFullException} when {@code key} is a
   * new identity and its policy's share of {@code maxKeys} holds no full bucket to make room.
   */
  @Override
  public CompletionStage<Consumption> tryConsume(BucketKey key, BucketSpec spec, long cost) {
    try {
      return CompletableFuture.completedFuture(tryConsumeNow(key, spec, cost));
    } catch (StoreFullException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Divides {@code maxKeys} into one equal share per policy (at least one bucket each): a
   * policy never holds more than its share, whatever identities its requests invent.
   */
  @Override
  public void usePolicies(Collection<String> policies) {
    table.usePolicies(policies);
    offences.usePolicies(policies.size());
    bans.usePolicies(policies.size());
  }

  /**
   * {@inheritDoc}
   *
   * <p>Never null: the memory store always answers in the caller's thread.
   *
   * @throws IllegalArgumentException as {@link #tryConsume} does
   * @throws StoreFullException when a new identity finds no slot (see {@link #tryConsume})
   */
  @Override
  public Consumption tryConsumeNow(BucketKey key, BucketSpec spec, long cost) {
    Objects.requireNonNull(key, "key");
    checkCost(spec, cost);
    BucketTable.Share share = table.share(key.policy());
    ConcurrentHashMap<String, Bucket> buckets = share.buckets;
    String identity = key.identity();
    boolean one = Bucket.isOneGcraLimit(spec);
    while (true) {
      Bucket bucket = buckets.get(identity);
      if (bucket == null) {
        bucket = table.insert(share, identity,
            one ? new GcraCell(spec.limits().get(0), Gcra.FRESH) : new LockedBucket(spec), now());
      } else if (!bucket.decides(spec)) {
        // A reload changed this policy's limits: carry the state over (LimitChange), in place;
        // the slot passes to the new bucket.
        Bucket stale = bucket;
        buckets.computeIfPresent(identity, (k, current) -> {
          Bucket carried = current == stale ? stale.carryTo(spec, now()) : null;
          return carried != null ? carried : current;
        });
        continue;
      }
      Consumption answer = one
          ? ((GcraCell) bucket).consume(cost, spec.limits().get(0), this)
          : ((LockedBucket) bucket).consume(spec, cost, this);
      if (answer != null) {
        return answer;
      }
      buckets.remove(identity, bucket); // dropped by a sweep after we found it: decide afresh
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>A bucket of one GCRA limit answers with its live answers: nothing is allocated once they
   * exist. Other buckets answer as {@link #tryConsumeNow}.
   */
  @Override
  public Consumption tryConsumeShared(BucketKey key, BucketSpec spec, long cost) {
    if (!Bucket.isOneGcraLimit(spec)) {
      return tryConsumeNow(key, spec, cost);
    }
    Objects.requireNonNull(key, "key");
    checkCost(spec, cost);
    BucketTable.Share share = table.share(key.policy());
    ConcurrentHashMap<String, Bucket> buckets = share.buckets;
    String identity = key.identity();
    Limit limit = spec.limits().get(0);
    while (true) {
      Bucket bucket = buckets.get(identity);
      if (bucket == null || !bucket.decides(spec)) {
        return tryConsumeNow(key, spec, cost); // a new or reloaded bucket: the ordinary way once
      }
      Consumption answer = ((GcraCell) bucket).consumeShared(cost, limit, this);
      if (answer != null) {
        return answer;
      }
      buckets.remove(identity, bucket); // dropped by a sweep after we found it: decide afresh
    }
  }

  /** {@inheritDoc} */
  @Override
  public Consumption tryConsumeAgain(Consumption previous, BucketSpec spec, long cost) {
    GcraCell cell = previous == null ? null : previous.liveCell(this, cost);
    if (cell == null || !cell.decides(spec)) {
      return null;
    }
    return cell.consumeShared(cost, cell.limit, this); // null when removed: nothing consumed
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
    BucketTable.Share share = table.shareIfPresent(key.policy());
    Bucket bucket = share == null ? null : share.buckets.get(key.identity());
    if (bucket instanceof GcraCell cell) {
      if (Bucket.isOneGcraLimit(spec)) {
        cell.refund(cost, spec.limits().get(0), now());
      }
    } else if (bucket instanceof LockedBucket locked) {
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
   * saturates there. Records are bounded per policy (the part of the key before {@code |}): a new
   * key whose policy's share is full of live records fails with a {@link PenaltyRefusedException}
   * instead of evicting another identity's record; see {@link OffenceTable}.
   */
  @Override
  public CompletionStage<Long> recordOffence(String offenceKey, long windowNanos) {
    Objects.requireNonNull(offenceKey, "offenceKey");
    if (windowNanos < 1) {
      throw new IllegalArgumentException("offence window must be positive, got " + windowNanos + "ns");
    }
    try {
      return CompletableFuture.completedFuture(offences.record(offenceKey, now(), windowNanos));
    } catch (PenaltyRefusedException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public CompletionStage<Void> forgetBucket(BucketKey key, BucketSpec spec) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(spec, "spec");
    BucketTable.Share share = table.shareIfPresent(key.policy());
    Bucket bucket = share == null ? null : share.buckets.get(key.identity());
    if (bucket != null) {
      // An operator lifted a ban: the identity's own state goes, even if not full (not an eviction).
      table.remove(share, key.identity(), bucket, now(), true);
      share.buckets.remove(key.identity(), bucket);
    }
    return PING;
  }

  @Override
  public CompletionStage<Void> forgetOffences(String offenceKey) {
    offences.remove(Objects.requireNonNull(offenceKey, "offenceKey"));
    return PING;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Never evicts a live ban: operator bans are held up to {@code maxKeys}, penalty bans up to
   * one share per issuing policy; a new ban beyond its bound fails the stage ({@link
   * PenaltyRefusedException} for a penalty, {@link StoreException} for an operator's ban). A
   * penalty ban never replaces a live operator ban with the same id. See {@link BanTable}.
   */
  @Override
  public CompletionStage<Void> putBan(Ban ban) {
    Objects.requireNonNull(ban, "ban");
    try {
      bans.put(ban, wallClock.millis());
    } catch (StoreException e) {
      return CompletableFuture.failedFuture(e);
    }
    return PING;
  }

  @Override
  public CompletionStage<Boolean> removeBan(String id) {
    Objects.requireNonNull(id, "id");
    return CompletableFuture.completedFuture(bans.remove(id, wallClock.millis()));
  }

  @Override
  public CompletionStage<List<Ban>> listBans() {
    return CompletableFuture.completedFuture(bans.live(wallClock.millis()));
  }

  /**
   * Penalties not recorded because their policy's share of offence records or bans was full
   * ({@code sluice_penalties_refused_total}); each such request stayed an ordinary 429.
   */
  @Override
  public long penaltiesRefused() {
    return offences.refused() + bans.refused();
  }

  @Override
  public CompletionStage<Boolean> acquirePermit(String key, int max, long leaseNanos) {
    Objects.requireNonNull(key, "key");
    if (max < 1 || leaseNanos < 1) {
      throw new IllegalArgumentException(
          "a permit needs max >= 1 and a positive lease, got max " + max + " and lease " + leaseNanos + "ns");
    }
    return CompletableFuture.completedFuture(permits.acquire(key, max, leaseNanos, now()));
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
    permits.release(key);
    return PING;
  }

  /** Permits currently held for {@code key} (expired leases excluded); for tests and diagnostics. */
  public int permitsHeld(String key) {
    return permits.held(key, now());
  }

  /** Keys with permits held or leased; drops to 0 when every permit was released. */
  public int permitKeys() {
    return permits.keys();
  }

  /** Completes normally: the memory store always answers. */
  @Override
  public CompletionStage<Void> ping() {
    return PING;
  }

  /** Nothing to release; idempotent. Buckets stay usable. */
  @Override
  public void close() {}

  /**
   * Snapshot export ({@code store.snapshot}, see {@link MemorySnapshot}): every bucket that is not
   * full and every offence record, times relative to now. Bans are read with {@link #listBans()};
   * permits are not exported (their requests end with the process). Weakly consistent under
   * concurrent decisions; meant for a drained gateway.
   */
  public void exportState(java.util.function.Consumer<BucketState> buckets,
      java.util.function.Consumer<BucketState.Offences> offenceRecords) {
    long now = now();
    table.forEachShare(share -> share.buckets.forEach((identity, bucket) -> {
      BucketState state = bucket.export(share.policy, identity, now);
      if (state != null) {
        buckets.accept(state);
      }
    }));
    offences.export(now, offenceRecords);
  }

  /**
   * Snapshot import: adds {@code state} as a bucket unless one exists for its key already; false
   * when it was not added (also when its policy's share is full: a snapshot never evicts).
   */
  public boolean importBucket(BucketState state) {
    long now = now();
    BucketTable.Share share = table.share(state.policy());
    if (share.buckets.containsKey(state.identity())) {
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
    Bucket fresh = Bucket.of(spec, tats, logs, now);
    try {
      return table.insert(share, state.identity(), fresh, now) == fresh;
    } catch (StoreFullException e) {
      return false;
    }
  }

  /** Snapshot import: adds an offence record unless one exists for its key (or there is no room). */
  public void importOffences(BucketState.Offences record) {
    offences.importRecord(record, now());
  }

  /** Buckets currently held (never more than {@code maxKeys}). */
  public long size() {
    return table.size();
  }

  /**
   * Buckets dropped before they were full ({@code sluice_store_evictions_total}): always 0, since
   * only full buckets are ever dropped (a new identity is refused instead, {@link #refusedKeys()}).
   * Kept so dashboards built on the metric keep working.
   */
  public long evictions() {
    return 0;
  }

  /**
   * New identities refused because their policy's share held no full bucket to make room ({@code
   * sluice_store_refused_keys_total}); each such request was answered {@code 503}.
   */
  public long refusedKeys() {
    return table.refused();
  }

  /** The most buckets one policy may hold: {@code maxKeys} divided by the policies in use. */
  public long shareLimit() {
    return table.shareLimit();
  }

  /** The bound this store was created with. */
  public long maxKeys() {
    return maxKeys;
  }

  long now() {
    return clock.nanoTime() - origin;
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
}
