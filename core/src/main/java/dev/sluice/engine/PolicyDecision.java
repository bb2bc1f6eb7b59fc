package dev.sluice.engine;

import dev.sluice.identity.Identity;
import dev.sluice.policy.OnError;
import dev.sluice.policy.Policy;
import dev.sluice.store.Ban;
import dev.sluice.store.Consumption;
import dev.sluice.store.LimitStatus;
import java.util.Objects;
import java.util.Optional;

/**
 * What one policy decided for one request: which bucket it counted (policy and identity), what
 * the store answered, and how that reads for metrics and headers. Immutable.
 *
 * <p>When the store failed, {@link #consumption()} is {@code null}, {@link #storeError()} is true
 * and {@link #allowed()} follows the policy's {@code on_error}: true for {@code allow}, false for
 * {@code deny}.
 */
public final class PolicyDecision {
  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  private final Policy policy;
  private final Identity identity;
  private final Consumption consumption;
  private final boolean allowed;
  private final int limitIndex;
  private final Ban ban;
  private final long banNanos;
  private final boolean concurrencyLimited;
  private final boolean shadow;
  private final boolean storeFull;

  private PolicyDecision(Policy policy, Identity identity, Consumption consumption, boolean allowed) {
    this(policy, identity, consumption, allowed, null, 0, false);
  }

  private PolicyDecision(
      Policy policy, Identity identity, Consumption consumption, boolean allowed, Ban ban,
      long banNanos, boolean concurrencyLimited) {
    this(policy, identity, consumption, allowed, ban, banNanos, concurrencyLimited, false);
  }

  private PolicyDecision(
      Policy policy, Identity identity, Consumption consumption, boolean allowed, Ban ban,
      long banNanos, boolean concurrencyLimited, boolean storeFull) {
    this.storeFull = storeFull;
    this.policy = Objects.requireNonNull(policy, "policy");
    this.identity = Objects.requireNonNull(identity, "identity");
    this.consumption = consumption;
    this.allowed = allowed;
    this.limitIndex = consumption == null ? 0 : limitIndexOf(consumption);
    this.ban = ban;
    this.banNanos = banNanos;
    this.concurrencyLimited = concurrencyLimited;
    this.shadow = policy.rollout() == 0; // mode: shadow, or rollout: 0%
  }

  /** A copy decided in shadow (a partial {@code rollout} left this identity out). */
  private PolicyDecision(PolicyDecision d) {
    this.policy = d.policy;
    this.identity = d.identity;
    this.consumption = d.consumption;
    this.allowed = d.allowed;
    this.limitIndex = d.limitIndex;
    this.ban = d.ban;
    this.banNanos = d.banNanos;
    this.concurrencyLimited = d.concurrencyLimited;
    this.shadow = true;
    this.storeFull = d.storeFull;
  }

  /** A copy with {@code consumption} instead (a snapshot of a live one). */
  private PolicyDecision(PolicyDecision d, Consumption consumption) {
    this.policy = d.policy;
    this.identity = d.identity;
    this.consumption = consumption;
    this.allowed = d.allowed;
    this.limitIndex = d.limitIndex;
    this.ban = d.ban;
    this.banNanos = d.banNanos;
    this.concurrencyLimited = d.concurrencyLimited;
    this.shadow = d.shadow;
    this.storeFull = d.storeFull;
  }

  /**
   * This decision with its numbers as they are now: itself unless its consumption is {@linkplain
   * Consumption#live() live} (a shared decision of {@link Engine#decideNow}).
   */
  public PolicyDecision snapshot() {
    return consumption != null && consumption.live()
        ? new PolicyDecision(this, consumption.snapshot()) : this;
  }

  /** Whether its numbers are read live (see {@link #snapshot()}). */
  boolean live() {
    return consumption != null && consumption.live();
  }

  /**
   * This decision in shadow: counted, reported as {@code shadow_limited} when it would have
   * refused, never enforced. Used for the identities a partial {@code rollout} leaves out.
   */
  public PolicyDecision inShadow() {
    return shadow ? this : new PolicyDecision(this);
  }

  /**
   * The decision of a policy whose identity is banned.
   *
   * @param identity the banned identity (the policy's own, or the client's ip for a ban on it)
   * @param consumption the tripping request's denial when this request caused the ban; null when
   *     an existing ban refused the request before it was counted
   * @param ban the ban
   * @param remainingNanos how long the ban still runs (the {@code Retry-After}), at least 1
   */
  public static PolicyDecision banned(
      Policy policy, Identity identity, Consumption consumption, Ban ban, long remainingNanos) {
    Objects.requireNonNull(ban, "ban");
    return new PolicyDecision(policy, identity, consumption, false, ban, Math.max(1, remainingNanos), false);
  }

  /** The decision of a policy whose rate limits admitted the request but whose concurrency cap is full. */
  public static PolicyDecision concurrencyLimited(Policy policy, Identity identity, Consumption consumption) {
    return new PolicyDecision(policy, identity, consumption, false, null, 0, true);
  }

  /** The decision of a policy whose store answered. */
  public static PolicyDecision of(Policy policy, Identity identity, Consumption consumption) {
    Objects.requireNonNull(consumption, "consumption");
    return new PolicyDecision(policy, identity, consumption, consumption.allowed());
  }

  /** The decision of a policy whose store failed, resolved by its effective {@code on_error}. */
  public static PolicyDecision storeError(Policy policy, Identity identity, OnError onError) {
    return new PolicyDecision(policy, identity, null, onError == OnError.ALLOW);
  }

  /** The policy that decided. */
  public Policy policy() {
    return policy;
  }

  /** The identity the request was counted under: the first of the policy's chain, else ip. */
  public Identity identity() {
    return identity;
  }

  /** The store's answer, or {@code null} when the store failed ({@link #storeError()}). */
  public Consumption consumption() {
    return consumption;
  }

  /**
   * The decision of a policy whose memory store could not track a new identity: its share of
   * {@code store.max_keys} is full of buckets still in use ({@code StoreFullException}). Refused
   * whatever the policy's {@code on_error} (a 503 with {@code Retry-After: 1}); {@link
   * #storeError()} is true as for any answer without a consumption, and {@link #storeFull()} tells
   * it apart from a failure.
   */
  public static PolicyDecision storeFull(Policy policy, Identity identity) {
    return new PolicyDecision(policy, identity, null, false, null, 0, false, true);
  }

  /** Whether the store refused to track this new identity (see {@link #storeFull(Policy, Identity)}). */
  public boolean storeFull() {
    return storeFull;
  }

  /**
   * Whether this decision is in shadow: decided and counted but never enforced ({@code mode:
   * shadow}, or an identity outside the policy's {@code rollout} share).
   */
  public boolean shadow() {
    return shadow;
  }

  /** Whether the store failed and {@code on_error} decided instead. */
  public boolean storeError() {
    return consumption == null && ban == null && !concurrencyLimited;
  }

  /** Whether the identity is banned (outcome {@code blocked}). */
  public boolean blocked() {
    return ban != null;
  }

  /** The ban that refused the request, when {@link #blocked()}. */
  public Optional<Ban> ban() {
    return Optional.ofNullable(ban);
  }

  /**
   * Whether the policy's {@code concurrency} cap refused the request (429, {@code Retry-After: 1},
   * {@code qu="concurrent-requests"}). The policy's tokens were given back: such a request never
   * ran, and is treated like one its own limit refused, which consumes nothing.
   */
  public boolean concurrencyLimited() {
    return concurrencyLimited;
  }

  /**
   * Whether this policy admitted the request (for a shadow policy: whether it would have). A
   * store failure counts as allowed under {@code on_error: allow}, as denied under {@code deny}.
   */
  public boolean allowed() {
    return allowed;
  }

  /**
   * The metric outcome of this policy: {@code allowed}, {@code limited}, {@code blocked} for a
   * banned identity, or {@code shadow_limited} for a shadow policy that would have refused. A store failure under
   * {@code on_error: deny} reads {@code limited} (the request was refused; the failure itself is
   * counted by {@link #storeError()}).
   */
  public String outcomeLabel() {
    if (ban != null) {
      return "blocked";
    }
    if (allowed) {
      return "allowed";
    }
    return shadow() ? "shadow_limited" : "limited";
  }

  /**
   * The limit this decision is about: the limit that denied when denied, else the limit with the
   * fewest whole tokens left (ties: the one whose next token is furthest, then file order). 0
   * after a store failure.
   */
  public int limitIndex() {
    return limitIndex;
  }

  /** The header item name of {@link #limitIndex()}, e.g. {@code "login/2"}. */
  public String itemName() {
    return policy.itemName(limitIndex);
  }

  /**
   * Nanoseconds until the same request would be admitted by this policy: the store's retry-after
   * when it denied, the remaining ban when banned, one second when over the concurrency cap or
   * after a store failure under {@code on_error: deny}, else 0.
   */
  public long retryAfterNanos() {
    if (allowed) {
      return 0;
    }
    if (ban != null) {
      return banNanos;
    }
    if (concurrencyLimited) {
      return NANOS_PER_SECOND;
    }
    return consumption == null ? NANOS_PER_SECOND : consumption.retryAfterNanos();
  }

  /** The state of {@link #limitIndex()} after the decision, or {@code null} after a store failure. */
  public LimitStatus limitStatus() {
    return consumption == null ? null : consumption.limit(limitIndex);
  }

  private static int limitIndexOf(Consumption consumption) {
    if (!consumption.allowed() && consumption.deniedLimit() >= 0) {
      return consumption.deniedLimit();
    }
    int best = 0;
    for (int i = 1, n = consumption.limitCount(); i < n; i++) {
      if (tighter(consumption.limit(i), consumption.limit(best))) {
        best = i;
      }
    }
    return best;
  }

  /** Fewer whole tokens left, or as few but a longer wait for the next one. */
  static boolean tighter(LimitStatus a, LimitStatus b) {
    return a.remaining() < b.remaining()
        || (a.remaining() == b.remaining() && a.nanosToNextToken() > b.nanosToNextToken());
  }

  @Override
  public String toString() {
    return "PolicyDecision[" + policy.name() + " " + identity.key() + " " + outcomeLabel()
        + (concurrencyLimited ? " concurrency" : "") + (ban != null ? " ban " + ban.id() : "")
        + (storeFull ? " store-full" : storeError() ? " store-error" : " " + consumption) + "]";
  }
}
