package dev.sluice.engine;

import dev.sluice.identity.ClientAddress;
import dev.sluice.identity.Identity;
import dev.sluice.policy.Rollout;
import dev.sluice.request.RequestView;
import dev.sluice.store.BucketKey;
import dev.sluice.store.Consumption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@link Engine#decideNow}: the zero-allocation path of a store that answers in the caller's
 * thread (the memory store).
 *
 * <p>The commonest requests — one policy of one GCRA limit, no count/concurrency/penalty, no ban
 * in the replica — are answered with a {@link SharedDecision} per policy, client and outcome,
 * reused while that client keeps getting that answer (docs/design-decisions.md, "Shared
 * decisions"); the same client deciding again also skips the identity and bucket lookups
 * ({@link dev.sluice.store.Store#tryConsumeAgain}). Every other request is decided by the {@link
 * OrdinaryPath}, whose stage is already complete on such a store.
 */
final class FastPath {
  private final DecisionSteps steps;
  private final OrdinaryPath ordinary;

  FastPath(DecisionSteps steps, OrdinaryPath ordinary) {
    this.steps = steps;
    this.ordinary = ordinary;
  }

  Decision decide(RequestView request) {
    DecisionSteps steps = this.steps;
    long start = steps.timing.start();
    ClientAddress client = null;
    AppliedPolicy only = null;
    try {
      client = steps.resolver.clientAddress(request);
      if (steps.bans.isEmpty() && !steps.access.isBlocked(request, client)
          && !steps.access.isExempt(request, client)) {
        only = soleSimplePolicy(request.method(), request.path());
      }
    } catch (RuntimeException e) {
      return steps.failed(request, client, start);
    }
    if (only == null) {
      // Every other path answers at once on the memory store too; it allocates as before.
      return ordinary.decide(request).toCompletableFuture().join();
    }
    Identity identity = null;
    Consumption answer = null;
    BucketKey key = null;
    SharedDecision again = null;
    try {
      if (only.ipOnly) {
        // The same client again: its ip identity and its bucket are the remembered ones.
        again = remembered(only, client);
        if (again != null && again.answer != null) {
          answer = steps.store.tryConsumeAgain(again.answer, only.spec, only.policy.cost());
        }
      }
      if (answer == null) {
        identity = again != null ? again.identity : steps.identityOf(only, request, client, null);
        key = sharedKey(only, identity);
        // Live answers only for an identity seen just before (ip), so that a bucket that is
        // decided once in a while keeps no live answers (memory per identity).
        answer = again != null || !only.ipOnly
            ? steps.store.tryConsumeShared(key, only.spec, only.policy.cost())
            : steps.store.tryConsumeNow(key, only.spec, only.policy.cost());
      } else {
        identity = again.identity;
        key = again.key;
      }
    } catch (RuntimeException e) {
      // A store's refusal to track a new identity (StoreFullException) and the policy's own
      // on_error are decided as on the ordinary path; only an identity that could not be
      // resolved falls back to the policy set's on_error.
      Identity who = identity != null ? identity : again != null ? again.identity : null;
      return who == null
          ? steps.failed(request, client, start)
          : steps.decided(request, client, only, who, null, e, start);
    }
    if (answer == null) {
      return steps.failed(request, client, start);
    }
    if (!answer.live()) {
      if (only.ipOnly && (only.seen == null || (ThreadLocalRandom.current().nextInt() & 7) == 0)) {
        only.seen = new SharedDecision(client, null, null, identity, key);
      }
      return steps.decided(request, client, only, identity, answer, null, start);
    }
    SharedDecision shared = answer.allowed() ? only.sharedAllowed : only.sharedRefused;
    if (shared != null && shared.answer == answer && shared.client == client) {
      return steps.finish(request, shared.decision, start);
    }
    Decision decision;
    try {
      decision = Decision.ofOne(client, only.decision(identity, answer, null));
    } catch (RuntimeException e) {
      return steps.failed(request, client, start);
    }
    // Remember it for the next request. An ip identity gets here only when seen just before;
    // other identities only now and then, so that many of them taking turns do not all write
    // the same field.
    if (shared == null || only.ipOnly || (ThreadLocalRandom.current().nextInt() & 7) == 0) {
      SharedDecision next = new SharedDecision(client, answer, decision, identity, key);
      if (answer.allowed()) {
        only.sharedAllowed = next;
      } else {
        only.sharedRefused = next;
      }
    }
    return steps.finish(request, decision, start);
  }

  /** The remembered decision (or sighting) of {@code client} under {@code policy}, or null. */
  private static SharedDecision remembered(AppliedPolicy policy, ClientAddress client) {
    SharedDecision s = policy.sharedAllowed;
    if (s != null && s.client == client) {
      return s;
    }
    s = policy.sharedRefused;
    if (s != null && s.client == client) {
      return s;
    }
    s = policy.seen;
    return s != null && s.client == client ? s : null;
  }

  /** The bucket key of {@code identity}: a remembered one when a shared decision has it. */
  private static BucketKey sharedKey(AppliedPolicy policy, Identity identity) {
    SharedDecision s = policy.sharedAllowed;
    if (s != null && s.identity == identity) {
      return s.key;
    }
    s = policy.sharedRefused;
    if (s != null && s.identity == identity) {
      return s.key;
    }
    s = policy.seen;
    if (s != null && s.identity == identity) {
      return s.key;
    }
    return policy.bucketKey(identity);
  }

  /**
   * The one policy that decides this request when it is the commonest kind (exactly one matched,
   * enforced for every identity or no defaults; or none matched and the defaults apply), with no
   * abuse control; else null.
   */
  private AppliedPolicy soleSimplePolicy(String method, String path) {
    AppliedPolicy first = null;
    for (AppliedPolicy a : steps.applied) {
      if (a.matcher.matches(method, path)) {
        if (first != null) {
          return null;
        }
        first = a;
      }
    }
    AppliedPolicy defaults = steps.defaults;
    if (first == null) {
      first = defaults;
    } else if (defaults != null && first.rollout != Rollout.ALL) {
      return null;
    }
    return first == null || first.abuse ? null : first;
  }
}
