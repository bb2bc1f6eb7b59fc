package dev.sluice.store;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.algorithm.Gcra;
import dev.sluice.limit.Limit;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * A bucket of one GCRA limit: its {@code tat}, decided lock-free (see {@link MemoryStore}).
 * {@link Gcra#FRESH} means never decided; {@link #REMOVED} means dropped from the map (no real
 * tat reaches it: store time stays below 2^62 and a capacity below 2^61).
 */
final class GcraCell extends Bucket {
  static final long REMOVED = Long.MAX_VALUE;
  private static final VarHandle TAT;

  static {
    try {
      TAT = MethodHandles.lookup().findVarHandle(GcraCell.class, "tat", long.class);
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

  GcraCell(Limit limit, long tat) {
    this.limit = limit;
    this.tat = tat;
  }

  @Override
  boolean decides(BucketSpec spec) {
    return Bucket.isOneGcraLimit(spec) && LimitChange.same(limit, spec.limits().get(0));
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
        return Bucket.carried(new BucketSpec(Algorithm.GCRA, List.of(limit)), new long[] {tat}, null, spec, now);
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
