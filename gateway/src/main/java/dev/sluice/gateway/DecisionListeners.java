package dev.sluice.gateway;

import dev.sluice.engine.Decision;
import dev.sluice.event.DecisionListener;
import dev.sluice.request.RequestView;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fans one decision out to several listeners. A listener that throws is logged and skipped: a
 * broken metric or audit sink must not turn into a failed request.
 */
final class DecisionListeners implements DecisionListener {
  private static final Logger log = LoggerFactory.getLogger(DecisionListeners.class);
  private final List<DecisionListener> listeners;

  private DecisionListeners(List<DecisionListener> listeners) {
    this.listeners = listeners;
  }

  static DecisionListener of(DecisionListener... listeners) {
    return new DecisionListeners(List.of(listeners));
  }

  @Override
  public void onDecision(RequestView request, Decision decision, long decisionNanos) {
    for (DecisionListener listener : listeners) {
      try {
        listener.onDecision(request, decision, decisionNanos);
      } catch (RuntimeException e) {
        log.warn("decision listener {} failed", listener.getClass().getSimpleName(), e);
      }
    }
  }
}
