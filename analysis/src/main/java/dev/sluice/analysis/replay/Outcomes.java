package dev.sluice.analysis.replay;

import dev.sluice.engine.Decision;
import dev.sluice.engine.PolicyDecision;

/** The access log's {@code outcome} words (SPEC §10) for a decision, as the gateway logs them. */
public final class Outcomes {
  private Outcomes() {}

  /** {@code allowed}, {@code limited}, {@code shadow_limited}, {@code exempt}, {@code blocked}, {@code banned} or {@code error}. */
  public static String of(Decision decision) {
    switch (decision.outcome()) {
      case FORBIDDEN:
        return "blocked";
      case BLOCKED:
        return "banned";
      case LIMITED:
        return "limited";
      case UNAVAILABLE:
        return "error";
      case EXEMPT:
        return "exempt";
      default:
        break;
    }
    boolean shadowLimited = false;
    for (PolicyDecision pd : decision.policies()) {
      if (pd.storeError() && !pd.shadow()) {
        return "error";
      }
      shadowLimited |= pd.shadow() && !pd.allowed();
    }
    return shadowLimited ? "shadow_limited" : "allowed";
  }
}
