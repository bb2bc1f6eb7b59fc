package dev.sluice.engine;

import dev.sluice.identity.ClientAddress;
import java.util.Arrays;
import java.util.Collections;
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
 */
public final class Decision {
  private static final long NANOS_PER_SECOND = 1_000_000_000L;
  private static final PolicyDecision[] NONE = new PolicyDecision[0];

  private final Outcome outcome;
  private final ClientAddress client;
  private final List<PolicyDecision> policies;
  private final PolicyDecision denying;
  private final PolicyDecision mostRestrictive;

  private Decision(ClientAddress client, PolicyDecision[] decisions, Outcome forced) {
    this.client = Objects.requireNonNull(client, "client");
    this.policies = decisions.length == 0
        ? List.of()
        : Collections.unmodifiableList(Arrays.asList(decisions));
    PolicyDecision limiting = null;
    PolicyDecision failing = null;
    PolicyDecision restrictive = null;
    // One pass, no streams: this runs for every request.
    for (PolicyDecision d : decisions) {
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
      if (!d.storeError()
          && (restrictive == null || PolicyDecision.tighter(d.limitStatus(), restrictive.limitStatus()))) {
        restrictive = d;
      }
    }
    this.mostRestrictive = restrictive;
    if (forced != null) {
      // Exempt requests were not decided; an internal failure refuses without a policy to name.
      this.outcome = forced;
      this.denying = null;
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

  /** Takes ownership of {@code decisions}; for the engine's hot path. */
  static Decision ofArray(ClientAddress client, PolicyDecision[] decisions) {
    return new Decision(client, decisions, null);
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
   * when no policy matched; empty when the request is exempt or nothing applied.
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
   * {@link Outcome#LIMITED} or {@link Outcome#UNAVAILABLE} (1 for the latter), else 0.
   */
  public long retryAfterSeconds() {
    if (denying == null) {
      return outcome == Outcome.UNAVAILABLE ? 1 : 0;
    }
    long nanos = denying.retryAfterNanos();
    long seconds = nanos / NANOS_PER_SECOND + (nanos % NANOS_PER_SECOND == 0 ? 0 : 1);
    return Math.max(1, seconds);
  }

  /** Whether the request bypassed limiting ({@code exempt.ips} or {@code exempt.api_keys}). */
  public boolean exempt() {
    return outcome == Outcome.EXEMPT;
  }

  @Override
  public String toString() {
    return "Decision[" + outcome + " " + client.client().getHostAddress() + " " + policies + "]";
  }
}
