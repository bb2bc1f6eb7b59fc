package dev.sluice.store.redis;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.algorithm.Gcra;
import dev.sluice.limit.Limit;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Refusals of GCRA buckets answered without Redis while they are certain (issue 15): a flood on
 * one key then costs Redis one script call per key and {@link #MAX_HINT_NANOS}, not one per
 * request.
 *
 * <p>Why the verdict is exact: a GCRA bucket's state is its debt (TAT − now). A refusal does not
 * change it; time only lowers it; consumptions (on this or any other gateway) only raise it. So
 * the debts a reply reports, minus the time elapsed since its command was <em>sent</em> (the
 * script ran no earlier than that, so this elapsed time is at least the server's), are a lower
 * bound of the bucket's debts at any later instant. If that lower bound already refuses a request
 * of any cost, Redis would refuse it too. When the bound admits, Redis decides as before. The
 * answer's figures (denied limit, remaining, next token, retry-after) are computed exactly as the
 * script would from the same debts aged only since the reply <em>arrived</em> (the script ran no
 * later), so with one gateway on the key they are never below Redis' (a client retrying at
 * Retry-After is admitted) and at most one round trip above; on the tests' shared clock they equal
 * the memory store's to the nanosecond. Other gateways' admissions of the last {@link
 * #MAX_HINT_NANOS} are missing from this view: retry-after may then be too short. The local clock is only ever used for elapsed time (never
 * compared with another machine's), and elapsed time is counted {@value #DRIFT_SHIFT}-bit
 * generously (≈ +0.1 %) so that a local clock ticking slower than Redis' cannot refuse late.
 *
 * <p>What can lower a debt besides time — a refund ({@code count:} reservations, a request
 * refused by another policy), a forgotten bucket (a lifted ban), a data-set reset — clears the
 * key's hint when it happens through this store (an epoch per slot; a reply in flight across it
 * is not kept; a reset clears every slot). Done on another gateway, or by hand in Redis, it is unseen here for at most {@link
 * #MAX_HINT_NANOS} plus one round trip: every hint expires that long after its reply arrived,
 * whatever its retry-after. Sliding-window buckets are never cached (their figures need the entries' times).
 *
 * <p>Bounded: a direct-mapped table of {@link #SLOTS} immutable entries, indexed by the key's
 * hash; a collision replaces the older entry (a miss only costs a Redis call). Lock-free; a stale
 * read of a slot is a miss or an older still-valid hint.
 */
final class RefusalCache {

  /**
   * Hints live at most this long after their reply arrived (100 ms; from the arrival, not the
   * send, so a slow round trip on a loaded host does not leave every hint expired on arrival).
   */
  static final long MAX_HINT_NANOS = 100_000_000L;
  /** Elapsed time is counted as {@code e + (e >> DRIFT_SHIFT)}: ≈ 0.1 % for clock-rate drift. */
  static final int DRIFT_SHIFT = 10;
  /** Entries held (a power of two). */
  static final int SLOTS = 4096;

  private final Entry[] slots = new Entry[SLOTS];
  /** Per slot, bumped by whatever may lower the debts of a key of that slot. */
  private final AtomicLongArray epochs = new AtomicLongArray(SLOTS);
  private final Clock clock;
  private final boolean driftMargin;

  /**
   * @param clock the elapsed-time source: the system clock in production, a test's
   * @param driftMargin whether {@code clock} may tick at another rate than Redis' clock (false only
   *     when the script's "now" is this very clock, as in the tests' {@code at} mode)
   */
  RefusalCache(Clock clock, boolean driftMargin) {
    this.clock = clock;
    this.driftMargin = driftMargin;
  }

  /** The cache for a store: its test seam's clock when it has one, else the system clock. */
  static RefusalCache forStore(DecisionScript.TestTime testTime) {
    if (testTime == null) {
      return new RefusalCache(Clock.system(), true);
    }
    if (!testTime.offset()) {
      return new RefusalCache(testTime.clock(), false); // the script's now is this clock's reading
    }
    Clock system = Clock.system();
    Clock offset = testTime.clock();
    return new RefusalCache(() -> system.nanoTime() + offset.nanoTime(), true); // TIME + offset
  }

  /** A reading of the elapsed-time clock, taken just before a command is sent. */
  long now() {
    return clock.nanoTime();
  }

  /** The key's epoch, read before a command is sent and given back to {@link #remember}. */
  long epoch(BucketKey key) {
    return epochs.get(slot(key));
  }

  /** Forgets the key's hint (and its slot's): something lowered (or may lower) its debts. */
  void invalidate(BucketKey key) {
    epochs.incrementAndGet(slot(key));
  }

  /** Forgets every hint: the data set may have been erased. */
  void invalidateAll() {
    for (int i = 0; i < SLOTS; i++) {
      epochs.incrementAndGet(i);
    }
  }

  /**
   * The refusal Redis would give for (key, spec, cost) now, or null when that is not certain (no
   * hint, an expired one, or the bound admits) and Redis must decide.
   */
  Consumption lookup(BucketKey key, BucketSpec spec, long cost) {
    int slot = slot(key);
    Entry e = slots[slot];
    if (e == null || e.spec != spec || e.epoch != epochs.get(slot) || !e.key.equals(key)) {
      return null;
    }
    long now = clock.nanoTime();
    long sinceReceived = now - e.receivedAt;
    if (sinceReceived >= MAX_HINT_NANOS || sinceReceived < 0) {
      return null; // expired, or a test clock stepped back (a full bucket may hold debt then)
    }
    // The verdict from the debts aged since the send (a lower bound: never refuses wrongly)...
    long sinceSent = now - e.sentAt;
    if (driftMargin) {
      sinceSent += sinceSent >> DRIFT_SHIFT;
      sinceReceived -= sinceReceived >> DRIFT_SHIFT;
    }
    if (refusal(spec, cost, e.debts, sinceSent) == null) {
      return null;
    }
    // ...the figures from those aged since the reply arrived (the script ran no later): with one
    // gateway on the key they are never below Redis' own, so a client retrying at Retry-After is
    // admitted; at most one round trip above.
    return refusal(spec, cost, e.debts, sinceReceived);
  }

  /**
   * Keeps the debts a reply of {@code decide.lua} reports for a GCRA bucket (after its decision:
   * an admission's include its cost), unless the epoch changed since the command was sent. Every
   * reply replaces the key's hint, so the figures answered locally are those of the latest state
   * this store saw (exactly the memory store's when only this store uses the key).
   */
  void remember(BucketKey key, BucketSpec spec, long sentAt, long sentEpoch, long[] reply) {
    int slot = slot(key);
    if (reply == null || spec.algorithm() != Algorithm.GCRA || sentEpoch != epochs.get(slot)) {
      return;
    }
    int n = spec.limits().size();
    if (reply.length != 3 + 3 * n) {
      return;
    }
    long[] debts = new long[n];
    for (int i = 0; i < n; i++) {
      debts[i] = reply[5 + 3 * i];
    }
    slots[slot] = new Entry(key, spec, sentAt, clock.nanoTime(), sentEpoch, debts);
  }

  /**
   * What {@code decide.lua} answers for a GCRA bucket whose debts are {@code debts} minus {@code
   * elapsed} (≥ 0), if that is a refusal; else null. Step for step the script's arithmetic (integers
   * below 2^53, which the script computes exactly too).
   */
  static Consumption refusal(BucketSpec spec, long cost, long[] debts, long elapsed) {
    List<Limit> limits = spec.limits();
    int n = limits.size();
    if (n == 1) { // the commonest bucket: no arrays
      Limit limit = limits.get(0);
      long interval = limit.emissionIntervalNanos();
      long capacity = Gcra.capacityNanos(limit);
      long debt = Math.max(0, debts[0] - elapsed);
      long wait = debt + cost * interval - capacity;
      if (wait <= 0) {
        return null;
      }
      long partial = debt > 0 ? Math.floorMod(debt, interval) : 0;
      return Consumption.ofOne(false, wait, Math.max(0, Math.floorDiv(capacity - debt, interval)),
          debt > 0 ? (partial == 0 ? interval : partial) : 0, debt);
    }
    int denied = -1;
    long longest = 0;
    long[] now = new long[n];
    for (int i = 0; i < n; i++) {
      Limit limit = limits.get(i);
      long debt = Math.max(0, debts[i] - elapsed);
      now[i] = debt;
      long wait = debt + cost * limit.emissionIntervalNanos() - Gcra.capacityNanos(limit);
      if (wait > longest) {
        longest = wait;
        denied = i;
      }
    }
    if (denied < 0) {
      return null;
    }
    long[] reply = new long[3 + 3 * n];
    reply[0] = 0;
    reply[1] = denied;
    reply[2] = longest;
    for (int i = 0; i < n; i++) {
      Limit limit = limits.get(i);
      long interval = limit.emissionIntervalNanos();
      long debt = now[i];
      long remaining = Math.max(0, Math.floorDiv(Gcra.capacityNanos(limit) - debt, interval));
      long partial = debt > 0 ? Math.floorMod(debt, interval) : 0;
      reply[3 + 3 * i] = remaining;
      reply[4 + 3 * i] = debt > 0 ? (partial == 0 ? interval : partial) : 0;
      reply[5 + 3 * i] = debt;
    }
    return DecisionCommand.consumption(reply, n);
  }

  private static int slot(BucketKey key) {
    int h = key.hashCode();
    return (h ^ (h >>> 16)) & (SLOTS - 1);
  }

  private record Entry(BucketKey key, BucketSpec spec, long sentAt, long receivedAt, long epoch, long[] debts) {}
}
