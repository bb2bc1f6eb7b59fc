package dev.sluice.engine;

import dev.sluice.identity.Identity;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.match.RequestMatcher;
import dev.sluice.policy.OnError;
import dev.sluice.policy.Policy;
import dev.sluice.policy.Rollout;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.StoreFullException;
import java.util.List;

/**
 * A policy with everything the hot path needs about it precomputed, and how one store answer of
 * it becomes its {@link PolicyDecision}. One per policy per engine version; the {@link FastPath}
 * keeps its shared decisions here.
 */
final class AppliedPolicy {
  /** The last shared allowed / refused decision of this policy (racy: any one will do). */
  SharedDecision sharedAllowed;
  SharedDecision sharedRefused;
  /** The last client (ip policies) decided without a shared decision: a candidate for one. */
  SharedDecision seen;
  final Policy policy;
  final RequestMatcher matcher;
  final BucketSpec spec;
  final OnError onError;
  /** Slots of the policy's by chain in the engine's distinct-spec table. */
  final int[] chain;
  /** Whether count, penalty or concurrency apply (the slower path). */
  final boolean abuse;
  /** The policy's rollout share in basis points (0 for shadow). */
  final int rollout;
  /** Whether the policy's identity is the client's ip alone (its by chain is {@code [ip]}). */
  final boolean ipOnly;

  AppliedPolicy(Policy policy, OnError onError, List<IdentitySpec> distinct) {
    this.policy = policy;
    this.matcher = policy.matcher();
    this.spec = new BucketSpec(policy.algorithm(), policy.limits());
    this.onError = onError;
    this.abuse = policy.usesAbuseControl();
    this.rollout = policy.rollout();
    List<IdentitySpec> by = policy.by();
    this.ipOnly = by.isEmpty()
        || (by.size() == 1 && by.get(0).kind() == dev.sluice.identity.IdentityKind.IP);
    this.chain = new int[by.size()];
    for (int i = 0; i < chain.length; i++) {
      int slot = distinct.indexOf(by.get(i));
      if (slot < 0) {
        slot = distinct.size();
        distinct.add(by.get(i));
      }
      chain[i] = slot;
    }
  }

  BucketKey bucketKey(Identity identity) {
    return new BucketKey(policy.name(), identity.key());
  }

  /** This policy's decision for {@code identity} from the store's answer (or failure). */
  PolicyDecision decision(Identity identity, Consumption consumption, Throwable error) {
    if (error != null
        && (error instanceof StoreFullException || error.getCause() instanceof StoreFullException)) {
      // The store cannot track a new identity: refused whatever on_error says (see StoreFullException).
      return PolicyDecision.storeFull(policy, identity);
    }
    if (error != null || consumption == null || !wellFormed(consumption, spec)) {
      return inRollout(identity, PolicyDecision.storeError(policy, identity, onError));
    }
    return inRollout(identity, PolicyDecision.of(policy, identity, consumption));
  }

  /** {@link #decision}, or this policy's store error when building the decision threw. */
  PolicyDecision decisionOrStoreError(Identity identity, Consumption consumption, Throwable error) {
    try {
      return decision(identity, consumption, error);
    } catch (RuntimeException e) {
      return inRollout(identity, PolicyDecision.storeError(policy, identity, onError));
    }
  }

  /** The decision in shadow when a partial rollout leaves this identity out. */
  PolicyDecision inRollout(Identity identity, PolicyDecision d) {
    if (rollout > 0 && rollout < Rollout.ALL
        && !policy.enforces(identity.key())) {
      return d.inShadow();
    }
    return d;
  }

  /** A store answer that does not fit its bucket is treated like no answer at all. */
  private static boolean wellFormed(Consumption consumption, BucketSpec spec) {
    int limits = spec.limits().size();
    return consumption.limitCount() == limits
        && (consumption.allowed() || (consumption.deniedLimit() >= 0 && consumption.deniedLimit() < limits));
  }
}
