package dev.sluice.engine;

import dev.sluice.event.DecisionListener;
import dev.sluice.time.Clock;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Which decisions the engine times for its listener, and how: about one in {@code oneIn}, chosen
 * at random per decision (so a periodic request pattern cannot hide from the sample). A decision
 * that is not timed reads no clock at all and reaches the listener as {@link
 * DecisionListener#NOT_TIMED}. Without a listener nothing is timed.
 *
 * <p>Why sample: a timed decision costs two clock reads and a histogram update (several contended
 * atomics), a visible share of a refused request's CPU in a flood, while a latency histogram
 * needs only a fair sample. Counts that must be exact (requests by outcome) do not come from here.
 *
 * <p>Thread-safe and allocation-free: the random draw uses the calling thread's own generator.
 */
final class DecisionTiming {
  /** What {@link #start()} returns for a decision that is not timed. */
  static final long UNTIMED = Long.MIN_VALUE;

  private final Clock clock;
  private final int oneIn;

  /**
   * @param oneIn 0: time nothing; 1: time every decision; n: about one decision in n
   */
  DecisionTiming(Clock clock, int oneIn) {
    this.clock = clock;
    this.oneIn = oneIn;
  }

  int oneIn() {
    return oneIn;
  }

  /** The start of a decision: a clock reading when this one is timed, {@link #UNTIMED} otherwise. */
  long start() {
    if (oneIn == 1 || (oneIn > 1 && ThreadLocalRandom.current().nextInt(oneIn) == 0)) {
      return clock.nanoTime();
    }
    return UNTIMED;
  }

  /** What to pass as the listener's {@code decisionNanos} for a decision begun at {@code start}. */
  long elapsed(long start) {
    return start == UNTIMED ? DecisionListener.NOT_TIMED : clock.nanoTime() - start;
  }
}
