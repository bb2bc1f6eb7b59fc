package dev.sluice.store;

import dev.sluice.algorithm.Admission;
import dev.sluice.algorithm.Algorithm;
import dev.sluice.algorithm.Gcra;
import dev.sluice.algorithm.SlidingWindow;
import dev.sluice.limit.Limit;
import java.util.Arrays;
import java.util.List;

/** A bucket of several limits or of the sliding window; every field but fullAt under its lock. */
final class LockedBucket extends Bucket {
  volatile long fullAt = Long.MAX_VALUE;
  boolean removed;
  /** The spec this bucket's state counts for. */
  final BucketSpec spec;

  LockedBucket(BucketSpec spec) {
    this.spec = spec;
  }

  @Override
  boolean decides(BucketSpec spec) {
    return !Bucket.isOneGcraLimit(spec) && LimitChange.same(this.spec, spec);
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
    return Bucket.carried(spec, tats, logs, next, now);
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
