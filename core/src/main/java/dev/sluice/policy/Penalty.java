package dev.sluice.policy;

import dev.sluice.time.DurationText;
import java.time.Duration;
import java.util.Objects;

/**
 * A policy's {@code penalty:} block: when the policy refuses an identity (it "trips"), the
 * identity is banned. Offence n (counted per policy and identity) bans for
 * {@code min(ban × escalate^(n−1), max)}.
 *
 * <p>A shadow policy with a penalty never bans (shadow never enforces); its trips are only
 * reported as {@code shadow_limited}.
 *
 * @param ban the first ban's length, positive
 * @param escalate the factor each further offence multiplies the ban by ({@code 2x} = 2), at least
 *     1 (1 = no escalation)
 * @param max the longest ban, at least {@code ban}
 * @param scope whether the ban refuses the identity under this policy only or under every policy
 */
public record Penalty(Duration ban, long escalate, Duration max, Scope scope) {

  /** The longest ban a penalty may set; permanent refusals belong in {@code block:}. */
  public static final Duration MAX_BAN = Duration.ofDays(365);

  /** Where a ban applies ({@code penalty.scope}). */
  public enum Scope {
    /** Only requests this policy decides (the default). */
    POLICY("policy"),
    /** Requests decided by any policy. */
    ALL("all");

    private final String configName;

    Scope(String configName) {
      this.configName = configName;
    }

    /** The name used in the policy file. */
    public String configName() {
      return configName;
    }

    /**
     * The scope named {@code name}.
     *
     * @throws IllegalArgumentException when {@code name} is not policy or all
     */
    public static Scope fromConfigName(String name) {
      for (Scope scope : values()) {
        if (scope.configName.equals(name)) {
          return scope;
        }
      }
      throw new IllegalArgumentException(PolicyMessages.unknownPenaltyScope(name));
    }
  }

  /**
   * Validates the penalty.
   *
   * @throws PolicyConfigException (path {@code penalty.ban}, {@code penalty.escalate},
   *     {@code penalty.max} or {@code penalty.scope}) when ban is not positive or longer than
   *     {@link #MAX_BAN}, escalate is below
   *     1, max is shorter than ban, or a component is null
   */
  public Penalty {
    if (ban == null || ban.isNegative() || ban.isZero() || ban.compareTo(MAX_BAN) > 0) {
      throw new PolicyConfigException("penalty.ban", PolicyMessages.badBan(ban));
    }
    if (escalate < 1) {
      throw new PolicyConfigException("penalty.escalate", PolicyMessages.badEscalate(escalate));
    }
    if (max == null || max.compareTo(ban) < 0 || max.compareTo(MAX_BAN) > 0) {
      throw new PolicyConfigException("penalty.max", PolicyMessages.badMaxBan(ban, max));
    }
    if (scope == null) {
      throw new PolicyConfigException("penalty.scope", PolicyMessages.unknownPenaltyScope(null));
    }
  }

  /** A penalty with no escalation and {@code max = ban}, scope policy. */
  public static Penalty of(Duration ban) {
    return new Penalty(ban, 1, ban, Scope.POLICY);
  }

  /**
   * The ban length for offence {@code n} (1 = first): {@code min(ban × escalate^(n−1), max)},
   * computed without overflow (it saturates at {@code max}).
   */
  public Duration banFor(long n) {
    long nanos = ban.toNanos();
    long cap = max.toNanos();
    for (long i = 1; i < n && nanos < cap; i++) {
      if (escalate == 1) {
        break;
      }
      nanos = nanos > cap / escalate ? cap : nanos * escalate;
    }
    return Duration.ofNanos(Math.min(nanos, cap));
  }

  @Override
  public String toString() {
    return "penalty{ban " + DurationText.format(ban) + ", escalate " + escalate + "x, max "
        + DurationText.format(max) + ", scope "
        + Objects.requireNonNull(scope).configName() + "}";
  }
}
