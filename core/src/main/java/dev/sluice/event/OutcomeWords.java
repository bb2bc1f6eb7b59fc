package dev.sluice.event;

import dev.sluice.engine.Decision;
import dev.sluice.engine.PolicyDecision;

/**
 * The word the access log writes for a decision (SPEC §10 {@code outcome}). One definition for the
 * gateway's access log and for {@code sluice replay}, which compares its outcomes with the logged
 * ones, so the two can never drift apart.
 */
public final class OutcomeWords {
  private OutcomeWords() {}

  /**
   * {@code blocked} for a {@code block:} refusal (403); {@code banned} for a banned identity;
   * {@code limited}; {@code error} when the store failed for an enforced policy or the memory
   * store was full for a new identity; {@code exempt}; {@code shadow_limited} when allowed but a
   * shadow policy would have refused; else {@code allowed}.
   */
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
