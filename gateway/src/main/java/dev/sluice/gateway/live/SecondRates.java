package dev.sluice.gateway.live;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One policy's decisions per outcome per second over the last {@link #SECONDS} seconds: a ring of
 * one-second slots. Recording is lock-free in the common case (an atomic increment); the first
 * event of a new second clears its slot under the object's lock. Thread-safe.
 */
final class SecondRates {
  static final int SECONDS = 60;

  private final AtomicLongArray counts = new AtomicLongArray(SECONDS * Outcomes.COUNT);
  private final AtomicLongArray stamps = new AtomicLongArray(SECONDS);

  SecondRates() {
    for (int i = 0; i < SECONDS; i++) {
      stamps.set(i, Long.MIN_VALUE);
    }
  }

  void record(int outcome, long nowMillis) {
    long second = Math.floorDiv(nowMillis, 1000L);
    int slot = (int) Math.floorMod(second, (long) SECONDS);
    if (stamps.get(slot) != second) {
      synchronized (this) {
        if (stamps.get(slot) != second) {
          for (int o = 0; o < Outcomes.COUNT; o++) {
            counts.set(slot * Outcomes.COUNT + o, 0);
          }
          stamps.set(slot, second);
        }
      }
    }
    counts.incrementAndGet(slot * Outcomes.COUNT + outcome);
  }

  /**
   * The per-second counts of the {@link #SECONDS} seconds ending with the current one, oldest
   * first, as {@code [outcome][second]}.
   */
  long[][] series(long nowMillis) {
    long now = Math.floorDiv(nowMillis, 1000L);
    long[][] out = new long[Outcomes.COUNT][SECONDS];
    for (int i = 0; i < SECONDS; i++) {
      long second = now - (SECONDS - 1) + i;
      int slot = (int) Math.floorMod(second, (long) SECONDS);
      if (stamps.get(slot) == second) {
        for (int o = 0; o < Outcomes.COUNT; o++) {
          out[o][i] = counts.get(slot * Outcomes.COUNT + o);
        }
      }
    }
    return out;
  }
}
