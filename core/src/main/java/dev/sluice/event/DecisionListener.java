package dev.sluice.event;

import dev.sluice.engine.Decision;
import dev.sluice.request.RequestView;

/**
 * Observes decisions as they are made: metrics, the audit log, the dashboard. The engine calls
 * {@link #onDecision} exactly once per decided request, on the thread that completes the decision
 * (the caller's thread for the memory store, a store I/O thread for Redis), before the decision is
 * handed back to the caller.
 *
 * <p><b>What a listener may keep</b> (docs/design-decisions.md, "Shared decisions"): the decision
 * may be one shared by many requests ({@link dev.sluice.engine.Engine#decideNow}). Its outcome,
 * client, policies, identities and names never change and may be kept for as long as wanted; its
 * numbers (retry-after, remaining, reset: {@code Consumption}, {@code LimitStatus}) are read from
 * the bucket when asked, so read them during this call, on this thread, or keep {@link
 * Decision#snapshot()}. Never call {@code release()} or {@code onResponse()}: the exchange does.
 *
 * <p>Implementations must be thread-safe and must not block: they run on the request's hot path.
 * An exception thrown by a listener is swallowed so it can never change a decision; listeners
 * should not rely on that and report their own failures.
 */
@FunctionalInterface
public interface DecisionListener {

  /** The {@code decisionNanos} of a decision the engine did not time (never a real duration). */
  long NOT_TIMED = -1L;

  /**
   * One request was decided.
   *
   * @param request the request, valid only during this call (the view may be recycled afterwards)
   * @param decision what was decided; possibly shared, see the class comment for what to keep
   * @param decisionNanos how long the decision took, from entering the engine to the store's
   *     answer, in nanoseconds of the engine's clock (for {@code sluice_decision_seconds}); or
   *     {@link #NOT_TIMED} when the engine did not time this decision (it times a random sample
   *     when built with {@code Engine.Builder.timeOneIn(n)}, every decision by default)
   */
  void onDecision(RequestView request, Decision decision, long decisionNanos);

  /** A listener that ignores every decision. */
  static DecisionListener none() {
    return (request, decision, decisionNanos) -> {};
  }
}
