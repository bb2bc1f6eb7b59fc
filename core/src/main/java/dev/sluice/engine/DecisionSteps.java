package dev.sluice.engine;

import dev.sluice.event.DecisionListener;
import dev.sluice.identity.ClientAddress;
import dev.sluice.identity.Identity;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.policy.OnError;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.request.RequestView;
import dev.sluice.store.Consumption;
import dev.sluice.store.Store;
import dev.sluice.store.StoreException;
import dev.sluice.time.Clock;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * One engine version's compiled policy set and collaborators, and the steps both ways of deciding
 * ({@link OrdinaryPath}, {@link FastPath}) are made of: a policy's identity, a store call within
 * the engine's store timeout, the listener's call, and the policy set's {@code on_error} for an
 * unexpected failure.
 *
 * <p>Design: everything that can be computed from the {@link PolicySet} alone (bucket specs, the
 * effective {@code on_error}, the distinct identity specs) is computed once here, so a request
 * allocates little: for the common single-policy case one identity cache, one bucket key, the
 * store's answer and the decision. Immutable (but for the shared decisions an {@link
 * AppliedPolicy} remembers); one per engine version.
 */
final class DecisionSteps {
  private static final Object ABSENT = new Object();
  static final PolicyDecision[] NO_DECISIONS = new PolicyDecision[0];
  private static final InetAddress UNKNOWN_ADDRESS = unknownAddress();

  final PolicySet policySet;
  final IdentityResolver resolver;
  final Store store;
  final Clock clock;
  final DecisionListener listener;
  /** Whether a listener was given: without one, no clock is read to time decisions. */
  final boolean timed;
  /** Which decisions are timed for the listener (all, or a random sample; none without one). */
  final DecisionTiming timing;
  final long storeTimeoutNanos;
  final AppliedPolicy[] applied;
  final AppliedPolicy defaults;
  final IdentitySpec[] specs;
  final AccessLists access;
  final BanList bans;
  final InstantSource wallClock;

  /**
   * @param listener the listener, or null for none (no clock is read then)
   * @param storeTimeoutNanos the engine's store timeout, or 0 for none
   */
  DecisionSteps(PolicySet policySet, Store store, Clock clock, DecisionListener listener,
      long storeTimeoutNanos, InstantSource wallClock, BanList bans, int timeOneIn) {
    this.policySet = policySet;
    this.resolver = policySet.identity();
    this.store = store;
    this.clock = clock;
    this.listener = listener != null ? listener : DecisionListener.none();
    this.timed = listener != null;
    this.timing = new DecisionTiming(clock, timed ? timeOneIn : 0);
    this.storeTimeoutNanos = storeTimeoutNanos;
    List<IdentitySpec> distinct = new ArrayList<>();
    List<Policy> list = policySet.policies();
    this.applied = new AppliedPolicy[list.size()];
    for (int i = 0; i < applied.length; i++) {
      applied[i] = new AppliedPolicy(list.get(i), policySet.onErrorOf(list.get(i)), distinct);
    }
    this.defaults = policySet.defaults()
        .map(p -> new AppliedPolicy(p, policySet.onErrorOf(p), distinct))
        .orElse(null);
    this.specs = distinct.toArray(new IdentitySpec[0]);
    this.access = new AccessLists(policySet);
    this.wallClock = wallClock;
    this.bans = bans;
  }

  /**
   * The first identity of the policy's chain the request has, else its ip; each spec resolved once
   * per request when {@code resolved} (a cache shared by the request's policies) is given.
   */
  Identity identityOf(AppliedPolicy policy, RequestView request, ClientAddress client, Object[] resolved) {
    for (int slot : policy.chain) {
      Identity identity = resolve(slot, request, client, resolved);
      if (identity != null) {
        return identity;
      }
    }
    return resolver.ipIdentity(client);
  }

  private Identity resolve(int slot, RequestView request, ClientAddress client, Object[] resolved) {
    Object cached = resolved == null ? null : resolved[slot];
    if (cached == null) {
      Identity identity;
      try {
        identity = resolver.identifyOrNull(specs[slot], request, client);
      } catch (RuntimeException e) {
        // A resolver failure (e.g. a malformed token) means the request does not have this
        // identity; the chain moves on, as for an unverified JWT.
        identity = null;
      }
      if (resolved == null) {
        return identity;
      }
      cached = identity != null ? identity : ABSENT;
      resolved[slot] = cached;
    }
    return cached == ABSENT ? null : (Identity) cached;
  }

  CompletionStage<Consumption> consume(AppliedPolicy policy, Identity identity) {
    CompletionStage<Consumption> stage;
    try {
      stage = store.tryConsume(policy.bucketKey(identity), policy.spec, policy.policy.cost());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return bounded(stage);
  }

  /** The store's stage, failed after the engine's store timeout when one is set. */
  <T> CompletionStage<T> bounded(CompletionStage<T> stage) {
    if (stage == null) {
      return CompletableFuture.failedFuture(new StoreException(EngineMessages.nullStage()));
    }
    if (storeTimeoutNanos > 0
        && !(stage instanceof CompletableFuture<?> done && done.isDone())) {
      CompletableFuture<T> bounded = new CompletableFuture<>();
      stage.whenComplete((value, error) -> {
        if (error != null) {
          bounded.completeExceptionally(error);
        } else {
          bounded.complete(value);
        }
      });
      return bounded.orTimeout(storeTimeoutNanos, TimeUnit.NANOSECONDS);
    }
    return stage;
  }

  /** The decision of a one-policy request once the store answered (or failed). */
  Decision decided(
      RequestView request, ClientAddress client, AppliedPolicy policy, Identity identity,
      Consumption consumption, Throwable error, long start) {
    try {
      return finish(request, Decision.ofOne(client, policy.decision(identity, consumption, error)), start);
    } catch (RuntimeException e) {
      return failed(request, client, start);
    }
  }

  Decision finish(RequestView request, Decision decision, long start) {
    if (!timed) {
      return decision;
    }
    try {
      listener.onDecision(request, decision, timing.elapsed(start));
    } catch (RuntimeException e) {
      // A listener must never change or break a decision.
    }
    return decision;
  }

  /** An unexpected failure inside the engine: the whole request follows the set's on_error. */
  Decision failed(RequestView request, ClientAddress client, long start) {
    ClientAddress at = client != null ? client : fallbackClient(request);
    Decision decision = policySet.onError() == OnError.ALLOW
        ? Decision.ofArray(at, NO_DECISIONS)
        : Decision.unavailable(at);
    return finish(request, decision, start);
  }

  private static ClientAddress fallbackClient(RequestView request) {
    InetAddress peer = null;
    try {
      peer = request.peerAddress();
    } catch (RuntimeException e) {
      // fall through to the unspecified address
    }
    InetAddress address = peer != null ? peer : UNKNOWN_ADDRESS;
    return new ClientAddress(address, ClientAddress.canonicalText(address));
  }

  private static InetAddress unknownAddress() {
    try {
      return InetAddress.getByAddress(new byte[4]);
    } catch (UnknownHostException e) {
      throw new AssertionError("a 4-byte address is always valid", e);
    }
  }
}
