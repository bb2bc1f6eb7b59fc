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
import java.util.Arrays;
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
 * live in their own map, updated atomically per key with {@link ConcurrentHashMap#compute}, and
 * exist only while requests are in flight (or until their lease ends). Ban expiry is wall-clock time from the injected
 * {@link InstantSource}; everything else uses the {@link Clock}.
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
  private final ConcurrentHashMap<String, Permits> permits = new ConcurrentHashMap<>();

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
    boolean one = isOneGcraLimit(spec);
    while (true) {
      Bucket bucket = buckets.get(identity);
      if (bucket == null) {
        bucket = table.insert(share, identity,
            one ? new Cell(spec.limits().get(0), Gcra.FRESH) : new Locked(spec), now());
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
   * <p>A bucket of one GCRA limit answers with its live answers: nothing is allocated once they
   * exist. Other buckets answer as {@link #tryConsumeNow}.
   */
  @Override
  public Consumption tryConsumeShared(BucketKey key, BucketSpec spec, long cost) {
    if (!isOneGcraLimit(spec)) {
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
      Consumption answer = ((Cell) bucket).consumeShared(cost, limit, this);
      if (answer != null) {
        return answer;
      }
      buckets.remove(identity, bucket); // dropped by a sweep after we found it: decide afresh
    }
  }

  /** {@inheritDoc} */
  @Override
  public Consumption tryConsumeAgain(Consumption previous, BucketSpec spec, long cost) {
    Cell cell = previous == null ? null : previous.liveCell(this, cost);
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
    Bucket fresh = bucketOf(spec, tats, logs, now);
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

  private static Bucket bucketOf(BucketSpec spec, long[] tats, SlidingWindow.Log[] logs, long now) {
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

  private static Bucket carried(BucketSpec old, long[] tats, SlidingWindow.Log[] logs, BucketSpec next, long now) {
    return next.algorithm() == Algorithm.GCRA
        ? bucketOf(next, LimitChange.tats(now, old, tats, logs, next), null, now)
        : bucketOf(next, null, LimitChange.logs(now, old, tats, logs, next), now);
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

  private static boolean isOneGcraLimit(BucketSpec spec) {
    return spec.algorithm() == Algorithm.GCRA && spec.limits().size() == 1;
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

  /**
   * A bucket of one GCRA limit: its {@code tat}, decided lock-free (see the class comment).
   * {@link Gcra#FRESH} means never decided; {@link #REMOVED} means dropped from the map (no real
   * tat reaches it: store time stays below 2^62 and a capacity below 2^61).
   */
  static final class Cell extends Bucket {
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
    /** This cell's live answers (see Consumption), made on first use; racy, they are equal. */
    private Consumption allowedView;
    private Consumption refusedView;

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

    /**
     * {@link #consume} answering with this cell's live answers (no allocation once they exist);
     * null when the cell was removed.
     */
    Consumption consumeShared(long cost, Limit limit, MemoryStore store) {
      long now = store.now();
      while (true) {
        long tat = this.tat;
        if (tat == REMOVED) {
          return null;
        }
        if (Gcra.retryAfter(tat, now, cost, limit) > 0) {
          return view(false, cost, store); // refused: nothing to write
        }
        long next = Gcra.admit(tat, now, cost, limit);
        if (TAT.compareAndSet(this, tat, next)) {
          return view(true, cost, store);
        }
        now = store.now();
      }
    }

    private Consumption view(boolean allowed, long cost, MemoryStore store) {
      Consumption v = allowed ? allowedView : refusedView;
      if (v != null && v.liveCost() == cost) {
        return v;
      }
      v = new Consumption(allowed, this, store, cost);
      if (allowed) {
        allowedView = v;
      } else {
        refusedView = v;
      }
      return v;
    }

    /** The tat a live answer reads at {@code now}: a removed cell reads as full. */
    long liveTat(long now) {
      long t = this.tat;
      return t == REMOVED ? now : t;
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
