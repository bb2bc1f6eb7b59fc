package dev.sluice.engine;

import dev.sluice.identity.ClientAddress;
import dev.sluice.policy.Priority;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the engine decided for one request, with everything the HTTP layer needs to forward it or
 * answer it (status, {@code Retry-After}, rate-limit fields, problem body). Immutable.
 *
 * <p><b>Every matching policy applies, each on its own.</b> Each applied policy consumes from its
 * own bucket independently of the others: when policy A refuses a request that policy B admitted,
 * B's tokens stay consumed (a refused request is still traffic from that identity). This is the
 * semantics of nginx {@code limit_req} with several zones and of Envoy's descriptor lists; it
 * keeps one decision to one round trip per policy, started concurrently, with no compensation
 * step that a crash could lose. Within one policy the limits are all-or-none.
 *
 * <p>Shadow policies are decided and counted like enforced ones but never make the request
 * {@link Outcome#LIMITED} or {@link Outcome#UNAVAILABLE}, and are never chosen for headers.
 *
 * <p>Outcome precedence: {@link Outcome#EXEMPT} (nothing was decided), then
 * {@link Outcome#LIMITED} when an enforced policy's store denied (a definite answer with a real
 * {@code Retry-After}), then {@link Outcome#UNAVAILABLE} when an enforced policy's store failed
 * under {@code on_error: deny}, else {@link Outcome#ALLOWED}.
 * With abuse control: {@link Outcome#FORBIDDEN} ({@code block:}) comes before everything, and
 * {@link Outcome#BLOCKED} (a ban, enforced or shadow policy alike, because bans are explicit) comes
 * before {@link Outcome#LIMITED}.
 *
 * <p><b>Settling an exchange</b> ({@code count:} and {@code concurrency:}). An {@link
 * Outcome#ALLOWED} decision may hold count reservations and concurrency permits. The gateway calls
 * {@link #onResponse(int)} when the upstream's response head arrives and {@link #release()} when
 * the exchange ends for any reason. Both are idempotent, thread-safe and never throw; they cost
 * nothing for decisions that hold nothing. A decision the gateway does not forward (any other
 * outcome) was already settled by the engine.
 */
public final class Decision {
  private static final long NANOS_PER_SECOND = 1_000_000_000L;
  private static final PolicyDecision[] NONE = new PolicyDecision[0];

  private final Outcome outcome;
  private final ClientAddress client;
  private final List<PolicyDecision> policies;
  private final PolicyDecision denying;
  private final PolicyDecision mostRestrictive;
  private final Priority priority;
  private final Settlement settlement;

  private Decision(ClientAddress client, PolicyDecision[] decisions, Outcome forced) {
    this(client, List.of(decisions), forced, null);
  }

  /** @param decisions immutable, no nulls */
  private Decision(
      ClientAddress client, List<PolicyDecision> decisions, Outcome forced, Settlement settlement) {
    this.client = Objects.requireNonNull(client, "client");
    this.settlement = settlement;
    this.policies = decisions;
    PolicyDecision limiting = null;
    PolicyDecision failing = null;
    PolicyDecision restrictive = null;
    PolicyDecision blocking = null;
    Priority highest = Priority.NORMAL;
    boolean anyPolicy = false;
    // One pass, no streams or iterators: this runs for every request.
    for (int i = 0, n = decisions.size(); i < n; i++) {
      PolicyDecision d = decisions.get(i);
      Priority p = d.policy().priority();
      highest = !anyPolicy || p.higherThan(highest) ? p : highest;
      anyPolicy = true;
      if (d.blocked()) {
        if (blocking == null || d.retryAfterNanos() > blocking.retryAfterNanos()) {
          blocking = d;
        }
        continue;
      }
      if (d.shadow()) {
        continue;
      }
      if (!d.allowed()) {
        if (d.storeError()) {
          if (failing == null) {
            failing = d;
          }
        } else if (limiting == null || d.retryAfterNanos() > limiting.retryAfterNanos()) {
          // The longest wait is the one the client must honour, so its limit is the one named.
          limiting = d;
        }
      }
      if (d.consumption() != null
          && (restrictive == null || PolicyDecision.tighter(d.limitStatus(), restrictive.limitStatus()))) {
        restrictive = d;
      }
    }
    this.mostRestrictive = restrictive;
    this.priority = anyPolicy ? highest : Priority.NORMAL;
    if (forced != null) {
      // Exempt requests were not decided; an internal failure refuses without a policy to name.
      this.outcome = forced;
      this.denying = null;
    } else if (blocking != null) {
      this.outcome = Outcome.BLOCKED;
      this.denying = blocking;
    } else if (limiting != null) {
      this.outcome = Outcome.LIMITED;
      this.denying = limiting;
    } else if (failing != null) {
      this.outcome = Outcome.UNAVAILABLE;
      this.denying = failing;
    } else {
      this.outcome = Outcome.ALLOWED;
      this.denying = null;
    }
  }

  /**
   * The decision made of {@code decisions} (applied policies, file order); the outcome and the
   * chosen policies follow the rules in the class comment.
   */
  public static Decision of(ClientAddress client, List<PolicyDecision> decisions) {
    return new Decision(client, decisions.toArray(NONE), null);
  }

  /** A request that bypasses limiting because its address or API key is exempt. */
  public static Decision exempt(ClientAddress client) {
    return new Decision(client, NONE, Outcome.EXEMPT);
  }

  /** A request from a client address or API key listed in {@code block:}. */
  public static Decision forbidden(ClientAddress client) {
    return new Decision(client, NONE, Outcome.FORBIDDEN);
  }

  /** Takes ownership of {@code decisions}; the settlement (may be null) is what the exchange holds. */
  static Decision settled(ClientAddress client, PolicyDecision[] decisions, Settlement settlement) {
    return new Decision(client, List.of(decisions), null, settlement);
  }

  /** The decision made of {@code decisions} (applied policies, file order). */
  static Decision ofArray(ClientAddress client, PolicyDecision[] decisions) {
    return new Decision(client, decisions, null);
  }

  /** The decision of a request that one policy decided; for the engine's hot path. */
  static Decision ofOne(ClientAddress client, PolicyDecision decision) {
    return new Decision(client, List.of(decision), null, null);
  }

  /** The engine itself failed unexpectedly under {@code on_error: deny}: refuse with 503. */
  static Decision unavailable(ClientAddress client) {
    return new Decision(client, NONE, Outcome.UNAVAILABLE);
  }

  /** What happens to the request. */
  public Outcome outcome() {
    return outcome;
  }

  /** The client address the request was decided for, and the X-Forwarded-For to send upstream. */
  public ClientAddress client() {
    return client;
  }

  /**
   * Every applied policy in file order, shadow ones included; the {@code default} policy alone
   * when no policy matched, after the matched ones when none of them is enforced for this request; empty when the request is exempt or nothing applied.
   */
  public List<PolicyDecision> policies() {
    return policies;
  }

  /**
   * The enforced policy that refused the request: when {@link Outcome#LIMITED}, the denial with
   * the longest retry-after (ties: file order), so its limit is the one to name in the 429 and its
   * wait equals {@link #retryAfterSeconds()}; when {@link Outcome#UNAVAILABLE}, the first
   * enforced policy whose store failed under {@code on_error: deny}. Empty otherwise.
   */
  public Optional<PolicyDecision> denying() {
    return Optional.ofNullable(denying);
  }

  /**
   * The enforced policy whose {@link PolicyDecision#limitIndex() limit} has the fewest whole tokens
   * left (ties: the longer wait for the next token, then file order), for the rate-limit fields of
   * an allowed response. Shadow policies and policies whose store failed are never chosen.
   */
  public Optional<PolicyDecision> mostRestrictive() {
    return Optional.ofNullable(mostRestrictive);
  }

  /**
   * The {@code Retry-After} value in whole seconds, rounded up: at least 1 when
   * {@link Outcome#LIMITED}, {@link Outcome#BLOCKED} (the remaining ban) or
   * {@link Outcome#UNAVAILABLE} (1 for the latter), 1 for a concurrency refusal, else 0.
   */
  public long retryAfterSeconds() {
    if (denying == null) {
      return outcome == Outcome.UNAVAILABLE ? 1 : 0;
    }
    long nanos = denying.retryAfterNanos();
    long seconds = nanos / NANOS_PER_SECOND + (nanos % NANOS_PER_SECOND == 0 ? 0 : 1);
    return Math.max(1, seconds);
  }

  /**
   * Whether the request was refused by a {@code concurrency} cap (a {@link Outcome#LIMITED}
   * decision whose {@link #denying()} policy is {@link PolicyDecision#concurrencyLimited()}).
   */
  public boolean concurrencyLimited() {
    return denying != null && denying.concurrencyLimited();
  }

  /**
   * The highest {@code priority} of the applied policies (shadow ones included), or {@link
   * Priority#NORMAL} when none applied; the gateway sheds low-priority requests first.
   */
  public Priority priority() {
    return priority;
  }

  /**
   * Tells the decision the upstream's response status (call when the response head arrives):
   * every {@code count} policy whose statuses do not include {@code status} gets its tokens back;
   * those whose statuses match keep them (the attempt counts). Only the first call has an effect;
   * thread-safe; never throws; a no-op for decisions without {@code count} policies.
   */
  public void onResponse(int status) {
    if (settlement != null) {
      settlement.onResponse(status);
    }
  }

  /**
   * Ends the exchange (call exactly when it ends, for any reason: response complete, client gone,
   * upstream error or timeout): returns concurrency permits and refunds every {@code count}
   * reservation not settled by {@link #onResponse(int)} — an attempt that got no upstream answer
   * does not count. Exactly-once: later calls do nothing. Thread-safe; never throws.
   *
   * <p>Bound: tokens are reserved before the request is forwarded and only given back after, so
   * the attempts that reached the upstream and still count, plus those in flight, never exceed
   * the policy's limits.
   */
  public void release() {
    if (settlement != null) {
      settlement.release();
    }
  }

  /** Whether this decision holds reservations or permits that {@link #release()} gives back. */
  public boolean holdsResources() {
    return settlement != null && !settlement.released();
  }

  /**
   * This decision with its numbers as they are now, to keep beyond the call that received it:
   * itself unless it is a shared decision of {@link Engine#decideNow} whose numbers are read
   * live (see docs/design-decisions.md, "Shared decisions"); then an ordinary immutable copy.
   */
  public Decision snapshot() {
    boolean live = false;
    for (int i = 0, n = policies.size(); i < n && !live; i++) {
      live = policies.get(i).live();
    }
    if (!live) {
      return this;
    }
    PolicyDecision[] copies = new PolicyDecision[policies.size()];
    for (int i = 0; i < copies.length; i++) {
      copies[i] = policies.get(i).snapshot();
    }
    return new Decision(client, List.of(copies), forced(), settlement);
  }

  /** The outcome this decision was forced to, or null when its policies decided it. */
  private Outcome forced() {
    return outcome == Outcome.EXEMPT || outcome == Outcome.FORBIDDEN
        || (outcome == Outcome.UNAVAILABLE && policies.isEmpty()) ? outcome : null;
  }

  /** Whether the request bypassed limiting ({@code exempt.ips} or {@code exempt.api_keys}). */
  public boolean exempt() {
    return outcome == Outcome.EXEMPT;
  }

  @Override
  public String toString() {
    return "Decision[" + outcome + " " + client.clientText() + " " + policies + "]";
  }
}
