package dev.sluice.event;

import dev.sluice.engine.Decision;
import dev.sluice.request.RequestView;

/**
 * Observes decisions as they are made: metrics, the audit log, the dashboard. The engine calls
 * {@link #onDecision} exactly once per decided request, on the thread that completes the decision
 * (the caller's thread for the memory store, a store I/O thread for Redis), before the decision is
 * handed back to the caller.
 *
 * <p>Implementations must be thread-safe and must not block: they run on the request's hot path.
 * An exception thrown by a listener is swallowed so it can never change a decision; listeners
 * should not rely on that and report their own failures.
 */
@FunctionalInterface
public interface DecisionListener {

  /**
   * One request was decided.
   *
   * @param request the request, valid only during this call (the view may be recycled afterwards)
   * @param decision what was decided
   * @param decisionNanos how long the decision took, from entering the engine to the store's
   *     answer, in nanoseconds of the engine's clock (for {@code sluice_decision_seconds})
   */
  void onDecision(RequestView request, Decision decision, long decisionNanos);

  /** A listener that ignores every decision. */
  static DecisionListener none() {
    return (request, decision, decisionNanos) -> {};
  }
}
