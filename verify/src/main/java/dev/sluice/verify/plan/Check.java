package dev.sluice.verify.plan;

import java.util.Objects;

/**
 * One check of a plan.
 *
 * @param id what is checked, e.g. {@code login/1}, {@code shadow reports}, {@code exempt ips 10.0.0.0/8}
 * @param policy the policy the check is about ({@code default} for the defaults; {@code exempt},
 *     {@code block} for those sections)
 * @param kind what kind of check
 * @param route the request it sends, {@code null} when not provable
 * @param recipe which identities its requests carry, {@code null} when not provable
 * @param mustAdmit how many requests a fresh identity must get admitted before a refusal (for
 *     {@link Kind#EXEMPT} and {@link Kind#SHADOW}: all of them)
 * @param requests how many requests it sends at most (0 when not provable)
 * @param expect the limit this check expects to refuse ({@link Kind#LIMIT}), else {@code null}
 * @param notProvable why it cannot be proven, or {@code null}
 */
public record Check(String id, String policy, Kind kind, Route route, Recipe recipe, long mustAdmit,
    int requests, Expected expect, String notProvable) {

  /** Kinds of check. */
  public enum Kind { LIMIT, SHADOW, EXEMPT, BLOCK, BAN }

  public Check {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(kind, "kind");
  }

  /** A check that sends nothing and reports {@code reason}. */
  static Check notProvable(String id, String policy, Kind kind, String reason) {
    return new Check(id, policy, kind, null, null, 0, 0, null, reason);
  }

  /** Whether the check will run. */
  public boolean provable() {
    return notProvable == null;
  }
}
