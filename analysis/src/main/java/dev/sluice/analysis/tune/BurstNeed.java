package dev.sluice.analysis.tune;

/**
 * The smallest GCRA burst (capacity) an identity needs at a given rate never to be refused: the
 * highest level of a token bucket of unbounded capacity, drained at the rate, that each request
 * fills by its cost (Lindley's recursion). A request is admitted by GCRA with burst B iff the
 * level after it is at most B, so an identity is never limited iff {@link #need} ≤ B. Not
 * thread-safe.
 */
final class BurstNeed {
  private double level;
  private long last = Long.MIN_VALUE;
  double need;

  void add(long nanos, long cost, double tokensPerNano) {
    if (last != Long.MIN_VALUE) {
      level = Math.max(0, level - (nanos - last) * tokensPerNano);
    }
    last = nanos;
    level += cost;
    if (level > need) {
      need = level;
    }
  }
}
