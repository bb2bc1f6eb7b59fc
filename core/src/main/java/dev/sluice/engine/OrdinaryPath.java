package dev.sluice.engine;

import dev.sluice.identity.ClientAddress;
import dev.sluice.identity.Identity;
import dev.sluice.policy.Rollout;
import dev.sluice.request.RequestView;
import dev.sluice.store.Ban;
import dev.sluice.store.Consumption;
import dev.sluice.store.Store;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link Engine#decide}: every request, with any store, as a stage. The walk is the one of the
 * {@link Engine} class comment: client address, block list, exemptions, matching policies (or
 * defaults, SPEC §2, with rollouts), then the cheapest of three ways to consume —
 * {@code decideOne} (one policy, no abuse control), {@code decideMany} (several policies, all
 * store calls started before any is awaited), {@code decideFull} (bans first, then {@link
 * AbuseControl} after the store answered).
 *
 * <p>Policies are decided concurrently so a Redis store costs one round-trip time however many
 * policies match; see {@link Decision} for how their answers combine.
 */
final class OrdinaryPath {
  private final DecisionSteps steps;
  private final AbuseControl abuseControl;

  OrdinaryPath(DecisionSteps steps, AbuseControl abuseControl) {
    this.steps = steps;
    this.abuseControl = abuseControl;
  }

  CompletionStage<Decision> decide(RequestView request) {
    long start = steps.timing.start();
    ClientAddress client = null;
    try {
      client = steps.resolver.clientAddress(request);
      if (steps.access.isBlocked(request, client)) {
        return CompletableFuture.completedFuture(steps.finish(request, Decision.forbidden(client), start));
      }
      if (steps.access.isExempt(request, client)) {
        return CompletableFuture.completedFuture(steps.finish(request, Decision.exempt(client), start));
      }
      String method = request.method();
      String path = request.path();
      // Collect matches without a list: most requests match exactly one policy.
      AppliedPolicy first = null;
      AppliedPolicy[] matched = null;
      int count = 0;
      for (AppliedPolicy a : steps.applied) {
        if (a.matcher.matches(method, path)) {
          if (count == 0) {
            first = a;
          } else {
            if (matched == null) {
              matched = new AppliedPolicy[steps.applied.length];
              matched[0] = first;
            }
            matched[count] = a;
          }
          count++;
        }
      }
      if (count == 0) {
        if (steps.defaults == null) {
          return CompletableFuture.completedFuture(
              steps.finish(request, Decision.ofArray(client, DecisionSteps.NO_DECISIONS), start));
        }
        first = steps.defaults;
        count = 1;
      } else if (steps.defaults != null && !surelyEnforced(first, matched, count)) {
        Object[] resolved = new Object[steps.specs.length];
        if (!enforcedFor(request, client, first, matched, count, resolved)) {
          // SPEC §2: defaults apply when no policy is enforced for the request.
          AppliedPolicy[] with = new AppliedPolicy[count + 1];
          if (matched == null) {
            with[0] = first;
          } else {
            System.arraycopy(matched, 0, with, 0, count);
          }
          with[count] = steps.defaults;
          boolean abuse = !steps.bans.isEmpty();
          for (AppliedPolicy a : with) {
            abuse |= a.abuse;
          }
          return abuse
              ? decideFull(request, client, with, count + 1, resolved, start)
              : decideMany(request, client, with, count + 1, resolved, start);
        }
      }
      boolean abuse = !steps.bans.isEmpty();
      if (count == 1 && !abuse && !first.abuse) {
        return decideOne(request, client, first, start);
      }
      Object[] resolved = new Object[steps.specs.length];
      if (count == 1) {
        return decideFull(request, client, new AppliedPolicy[] {first}, 1, resolved, start);
      }
      for (int i = 0; i < count && !abuse; i++) {
        abuse = matched[i].abuse;
      }
      if (abuse) {
        return decideFull(request, client, matched, count, resolved, start);
      }
      return decideMany(request, client, matched, count, resolved, start);
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(steps.failed(request, client, start));
    }
  }

  /** Whether a matched policy enforces every identity (no identity needs resolving to know). */
  private static boolean surelyEnforced(AppliedPolicy first, AppliedPolicy[] matched, int count) {
    if (matched == null) {
      return first.rollout == Rollout.ALL;
    }
    for (int i = 0; i < count; i++) {
      if (matched[i].rollout == Rollout.ALL) {
        return true;
      }
    }
    return false;
  }

  /** Whether a matched policy enforces this request's identity (its rollout share holds it). */
  private boolean enforcedFor(
      RequestView request, ClientAddress client, AppliedPolicy first, AppliedPolicy[] matched, int count,
      Object[] resolved) {
    for (int i = 0; i < count; i++) {
      AppliedPolicy a = matched == null ? first : matched[i];
      if (a.rollout > 0 && a.policy.enforces(steps.identityOf(a, request, client, resolved).key())) {
        return true;
      }
    }
    return false;
  }

  /**
   * The commonest request: one policy, no abuse control. A store that answers in the caller's
   * thread ({@link Store#tryConsumeNow}) is decided without any intermediate stage.
   */
  private CompletionStage<Decision> decideOne(
      RequestView request, ClientAddress client, AppliedPolicy policy, long start) {
    Identity identity = steps.identityOf(policy, request, client, null);
    Consumption now;
    try {
      now = steps.store.tryConsumeNow(policy.bucketKey(identity), policy.spec, policy.policy.cost());
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(steps.decided(request, client, policy, identity, null, e, start));
    }
    if (now != null) {
      return CompletableFuture.completedFuture(steps.decided(request, client, policy, identity, now, null, start));
    }
    return steps.consume(policy, identity).handle(
        (consumption, error) -> steps.decided(request, client, policy, identity, consumption, error, start));
  }

  private CompletionStage<Decision> decideMany(
      RequestView request, ClientAddress client, AppliedPolicy[] matched, int count, Object[] resolved,
      long start) {
    PolicyDecision[] decisions = new PolicyDecision[count];
    CompletableFuture<Decision> result = new CompletableFuture<>();
    // The last answer to arrive builds the decision; decrementAndGet publishes the array slots.
    AtomicInteger pending = new AtomicInteger(count);
    for (int i = 0; i < count; i++) {
      AppliedPolicy policy = matched[i];
      Identity identity = steps.identityOf(policy, request, client, resolved);
      int slot = i;
      steps.consume(policy, identity).whenComplete((consumption, error) -> {
        decisions[slot] = policy.decisionOrStoreError(identity, consumption, error);
        if (pending.decrementAndGet() == 0) {
          Decision decision;
          try {
            decision = steps.finish(request, Decision.ofArray(client, decisions), start);
          } catch (RuntimeException e) {
            decision = steps.failed(request, client, start);
          }
          result.complete(decision);
        }
      });
    }
    return result;
  }

  /**
   * The path for requests where abuse control applies: bans checked first (no store call when
   * banned), then every policy consumed concurrently as in {@link #decideMany}, then
   * {@link AbuseControl#afterConsume} for penalties, permits and count reservations.
   */
  private CompletionStage<Decision> decideFull(
      RequestView request, ClientAddress client, AppliedPolicy[] matched, int count, Object[] resolved,
      long start) {
    Identity[] ids = new Identity[count];
    for (int i = 0; i < count; i++) {
      ids[i] = steps.identityOf(matched[i], request, client, resolved);
    }
    if (!steps.bans.isEmpty()) {
      PolicyDecision[] banned = checkBans(request, client, matched, ids, count, resolved);
      if (banned != null) {
        return CompletableFuture.completedFuture(steps.finish(request, Decision.ofArray(client, banned), start));
      }
    }
    PolicyDecision[] decisions = new PolicyDecision[count];
    CompletableFuture<Decision> result = new CompletableFuture<>();
    AtomicInteger pending = new AtomicInteger(count);
    for (int i = 0; i < count; i++) {
      AppliedPolicy policy = matched[i];
      Identity identity = ids[i];
      int slot = i;
      steps.consume(policy, identity).whenComplete((consumption, error) -> {
        decisions[slot] = policy.decisionOrStoreError(identity, consumption, error);
        if (pending.decrementAndGet() == 0) {
          CompletionStage<Decision> after;
          try {
            after = abuseControl.afterConsume(client, matched, ids, decisions);
          } catch (RuntimeException e) {
            after = CompletableFuture.failedFuture(e);
          }
          after.whenComplete((decision, failure) -> {
            Decision done;
            try {
              done = failure == null ? steps.finish(request, decision, start) : steps.failed(request, client, start);
            } catch (RuntimeException e) {
              done = steps.failed(request, client, start);
            }
            result.complete(done);
          });
        }
      });
    }
    return result;
  }

  /** Banned policies of this request as decisions, or null when no ban applies. */
  private PolicyDecision[] checkBans(
      RequestView request, ClientAddress client, AppliedPolicy[] matched, Identity[] ids, int count,
      Object[] resolved) {
    long nowMillis = steps.wallClock.millis();
    Identity ip = null;
    List<PolicyDecision> banned = null;
    for (int i = 0; i < count; i++) {
      String name = matched[i].policy.name();
      Identity who = ids[i];
      Ban ban = steps.bans.find(name, who.key(), nowMillis);
      if (ban == null) {
        // A ban on the client's address applies whatever identity the policy counts by.
        if (ip == null) {
          ip = steps.resolver.ipIdentity(client);
        }
        if (!ip.equals(who)) {
          ban = steps.bans.find(name, ip.key(), nowMillis);
          who = ip;
        }
      }
      if (ban != null) {
        if (banned == null) {
          banned = new ArrayList<>(count);
        }
        long remaining = Math.multiplyExact(ban.expiresAtEpochMillis() - nowMillis, 1_000_000L);
        banned.add(PolicyDecision.banned(matched[i].policy, who, null, ban, remaining));
      }
    }
    return banned == null ? null : banned.toArray(DecisionSteps.NO_DECISIONS);
  }
}
