package dev.sluice.engine;

import dev.sluice.event.DecisionListener;
import dev.sluice.identity.ClientAddress;
import dev.sluice.identity.Identity;
import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.match.RequestMatcher;
import dev.sluice.policy.OnError;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.request.RequestView;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.Store;
import dev.sluice.store.StoreException;
import dev.sluice.time.Clock;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decides requests: the whole hot path of Sluice in one walk.
 *
 * <pre>
 * request → client address (once) → exempt? → matching policies (or defaults)
 *         → each policy's identity (first of its by chain, else ip; each kind resolved once)
 *         → one Store.tryConsume per policy, all started before any is awaited → Decision
 * </pre>
 *
 * <p>Design: everything that can be computed from the {@link PolicySet} alone (bucket specs, the
 * effective {@code on_error}, the distinct identity specs) is computed once in the builder, so a
 * request allocates little: for the common single-policy case one identity cache, one bucket key,
 * the store's answer and the decision. Policies are decided concurrently so a Redis store costs
 * one round-trip time however many policies match; see {@link Decision} for how their answers
 * combine.
 *
 * <p>Thread-safe and immutable; a policy reload builds a new engine. {@link #decide} never throws
 * and its stage never completes exceptionally: a failing store becomes a per-policy
 * {@code on_error} result, and an unexpected failure inside the engine applies the policy set's
 * {@code on_error} to the whole request.
 */
public final class Engine {
  private static final Object ABSENT = new Object();
  private static final IdentitySpec IP = new IdentitySpec(IdentityKind.IP, null);
  private static final PolicyDecision[] NO_DECISIONS = new PolicyDecision[0];
  private static final InetAddress UNKNOWN_ADDRESS = unknownAddress();

  private final PolicySet policySet;
  private final IdentityResolver resolver;
  private final Store store;
  private final Clock clock;
  private final DecisionListener listener;
  private final long storeTimeoutNanos;
  private final Applied[] applied;
  private final Applied defaults;
  private final IdentitySpec[] specs;
  /** SHA-256 digests (hex) of the exempt API keys; see {@link #digest(String)}. */
  private final Set<String> exemptKeyDigests;
  private final int ipSlot;

  private Engine(Builder b) {
    this.policySet = b.policies;
    this.resolver = b.policies.identity();
    this.store = b.store;
    this.clock = b.clock;
    this.listener = b.listener;
    this.storeTimeoutNanos = b.storeTimeout == null ? 0 : b.storeTimeout.toNanos();
    List<IdentitySpec> distinct = new ArrayList<>();
    distinct.add(IP);
    List<Policy> list = policySet.policies();
    this.applied = new Applied[list.size()];
    for (int i = 0; i < applied.length; i++) {
      applied[i] = new Applied(list.get(i), policySet.onErrorOf(list.get(i)), distinct);
    }
    this.defaults = policySet.defaults()
        .map(p -> new Applied(p, policySet.onErrorOf(p), distinct))
        .orElse(null);
    this.specs = distinct.toArray(new IdentitySpec[0]);
    this.ipSlot = 0;
    Set<String> digests = new HashSet<>();
    for (String key : policySet.exemptApiKeys()) {
      digests.add(digest(key));
    }
    this.exemptKeyDigests = Set.copyOf(digests);
  }

  /** Starts an engine; {@link Builder#policies} and {@link Builder#store} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The policy set this engine decides with. */
  public PolicySet policies() {
    return policySet;
  }

  /**
   * Decides one request and consumes its tokens. The listener is called once, just before the
   * returned stage completes, on the thread that completes it (the caller's thread with the memory
   * store; a store I/O thread, or the JDK's timeout thread, with a remote store).
   *
   * <p>Never throws; the stage never completes exceptionally.
   *
   * @param request the request; read on the calling thread only, and by the listener
   */
  public CompletionStage<Decision> decide(RequestView request) {
    long start = clock.nanoTime();
    ClientAddress client = null;
    try {
      client = resolver.clientAddress(request);
      if (isExempt(request, client)) {
        return CompletableFuture.completedFuture(finish(request, Decision.exempt(client), start));
      }
      String method = request.method();
      String path = request.path();
      // Collect matches without a list: most requests match exactly one policy.
      Applied first = null;
      Applied[] matched = null;
      int count = 0;
      for (Applied a : applied) {
        if (a.matcher.matches(method, path)) {
          if (count == 0) {
            first = a;
          } else {
            if (matched == null) {
              matched = new Applied[applied.length];
              matched[0] = first;
            }
            matched[count] = a;
          }
          count++;
        }
      }
      if (count == 0) {
        if (defaults == null) {
          return CompletableFuture.completedFuture(
              finish(request, Decision.ofArray(client, NO_DECISIONS), start));
        }
        first = defaults;
        count = 1;
      }
      Object[] resolved = new Object[specs.length];
      if (count == 1) {
        return decideOne(request, client, first, resolved, start);
      }
      return decideMany(request, client, matched, count, resolved, start);
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(failed(request, client, start));
    }
  }

  private CompletionStage<Decision> decideOne(
      RequestView request, ClientAddress client, Applied policy, Object[] resolved, long start) {
    Identity identity = identityOf(policy, request, client, resolved);
    return consume(policy, identity).handle((consumption, error) -> {
      try {
        PolicyDecision[] one = {decision(policy, identity, consumption, error)};
        return finish(request, Decision.ofArray(client, one), start);
      } catch (RuntimeException e) {
        return failed(request, client, start);
      }
    });
  }

  private CompletionStage<Decision> decideMany(
      RequestView request, ClientAddress client, Applied[] matched, int count, Object[] resolved,
      long start) {
    PolicyDecision[] decisions = new PolicyDecision[count];
    CompletableFuture<Decision> result = new CompletableFuture<>();
    // The last answer to arrive builds the decision; decrementAndGet publishes the array slots.
    AtomicInteger pending = new AtomicInteger(count);
    for (int i = 0; i < count; i++) {
      Applied policy = matched[i];
      Identity identity = identityOf(policy, request, client, resolved);
      int slot = i;
      consume(policy, identity).whenComplete((consumption, error) -> {
        try {
          decisions[slot] = decision(policy, identity, consumption, error);
        } catch (RuntimeException e) {
          decisions[slot] = PolicyDecision.storeError(policy.policy, identity, policy.onError);
        }
        if (pending.decrementAndGet() == 0) {
          Decision decision;
          try {
            decision = finish(request, Decision.ofArray(client, decisions), start);
          } catch (RuntimeException e) {
            decision = failed(request, client, start);
          }
          result.complete(decision);
        }
      });
    }
    return result;
  }

  private boolean isExempt(RequestView request, ClientAddress client) {
    if (!policySet.exemptIps().isEmpty() && policySet.exemptIps().contains(client.client())) {
      return true;
    }
    if (exemptKeyDigests.isEmpty()) {
      return false;
    }
    Optional<String> key = resolver.rawApiKey(request);
    return key.isPresent() && exemptKeyDigests.contains(digest(key.get()));
  }

  /**
   * Exempt keys are secrets: looking them up by digest keeps the lookup's timing independent of how
   * much of a real key a client guessed (a string compare stops at the first differing character).
   */
  private static String digest(String key) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      StringBuilder hex = new StringBuilder(hash.length * 2);
      for (byte b : hash) {
        hex.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
      }
      return hex.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JVM provides SHA-256", e);
    }
  }

  /** The first identity of the policy's chain the request has, else its ip; each spec resolved once. */
  private Identity identityOf(Applied policy, RequestView request, ClientAddress client, Object[] resolved) {
    for (int slot : policy.chain) {
      Identity identity = resolve(slot, request, client, resolved);
      if (identity != null) {
        return identity;
      }
    }
    Identity ip = resolve(ipSlot, request, client, resolved);
    return ip != null ? ip : new Identity(IP, resolver.ipValue(client.client()));
  }

  private Identity resolve(int slot, RequestView request, ClientAddress client, Object[] resolved) {
    Object cached = resolved[slot];
    if (cached == null) {
      Optional<Identity> identity;
      try {
        identity = resolver.identify(specs[slot], request, client);
      } catch (RuntimeException e) {
        // A resolver failure (e.g. a malformed token) means the request does not have this
        // identity; the chain moves on, as for an unverified JWT.
        identity = Optional.empty();
      }
      cached = identity.isPresent() ? identity.get() : ABSENT;
      resolved[slot] = cached;
    }
    return cached == ABSENT ? null : (Identity) cached;
  }

  private CompletionStage<Consumption> consume(Applied policy, Identity identity) {
    CompletionStage<Consumption> stage;
    try {
      stage = store.tryConsume(
          new BucketKey(policy.policy.name(), identity.key()), policy.spec, policy.policy.cost());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (stage == null) {
      return CompletableFuture.failedFuture(new StoreException(EngineMessages.nullStage()));
    }
    if (storeTimeoutNanos > 0
        && !(stage instanceof CompletableFuture<?> done && done.isDone())) {
      CompletableFuture<Consumption> bounded = new CompletableFuture<>();
      stage.whenComplete((consumption, error) -> {
        if (error != null) {
          bounded.completeExceptionally(error);
        } else {
          bounded.complete(consumption);
        }
      });
      return bounded.orTimeout(storeTimeoutNanos, TimeUnit.NANOSECONDS);
    }
    return stage;
  }

  private static PolicyDecision decision(
      Applied policy, Identity identity, Consumption consumption, Throwable error) {
    if (error != null || consumption == null || !wellFormed(consumption, policy.spec)) {
      return PolicyDecision.storeError(policy.policy, identity, policy.onError);
    }
    return PolicyDecision.of(policy.policy, identity, consumption);
  }

  /** A store answer that does not fit its bucket is treated like no answer at all. */
  private static boolean wellFormed(Consumption consumption, BucketSpec spec) {
    int limits = spec.limits().size();
    return consumption.limits() != null
        && consumption.limits().size() == limits
        && (consumption.allowed() || (consumption.deniedLimit() >= 0 && consumption.deniedLimit() < limits));
  }

  private Decision finish(RequestView request, Decision decision, long start) {
    try {
      listener.onDecision(request, decision, clock.nanoTime() - start);
    } catch (RuntimeException e) {
      // A listener must never change or break a decision.
    }
    return decision;
  }

  /** An unexpected failure inside the engine: the whole request follows the set's on_error. */
  private Decision failed(RequestView request, ClientAddress client, long start) {
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
    return new ClientAddress(address, address.getHostAddress());
  }

  private static InetAddress unknownAddress() {
    try {
      return InetAddress.getByAddress(new byte[4]);
    } catch (UnknownHostException e) {
      throw new AssertionError("a 4-byte address is always valid", e);
    }
  }

  /** A policy with everything the hot path needs about it precomputed. */
  private static final class Applied {
    final Policy policy;
    final RequestMatcher matcher;
    final BucketSpec spec;
    final OnError onError;
    /** Slots of the policy's by chain in the engine's distinct-spec table. */
    final int[] chain;

    Applied(Policy policy, OnError onError, List<IdentitySpec> distinct) {
      this.policy = policy;
      this.matcher = policy.matcher();
      this.spec = new BucketSpec(policy.algorithm(), policy.limits());
      this.onError = onError;
      List<IdentitySpec> by = policy.by();
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
  }

  /**
   * Collects an engine's collaborators. Not thread-safe.
   */
  public static final class Builder {
    private PolicySet policies;
    private Store store;
    private Clock clock = Clock.system();
    private DecisionListener listener = DecisionListener.none();
    private Duration storeTimeout;

    private Builder() {}

    /** The policies to decide with. Required. */
    public Builder policies(PolicySet policies) {
      this.policies = Objects.requireNonNull(policies, "policies");
      return this;
    }

    /** Where buckets live. Required; the engine does not close it. */
    public Builder store(Store store) {
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    /** Measures decision time for the listener; default {@link Clock#system()}. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Observes every decision; default none. Must be thread-safe and must not block. */
    public Builder listener(DecisionListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * A safety net over the store's own timeout: a store answer that has not arrived after
     * {@code timeout} counts as a store failure ({@code on_error} applies). Default: none, the
     * store bounds its own calls. Measured in real time, not with {@link #clock(Clock)}.
     *
     * @throws IllegalArgumentException when {@code timeout} is zero or negative
     */
    public Builder storeTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException(EngineMessages.badTimeout(timeout));
      }
      this.storeTimeout = timeout;
      return this;
    }

    /**
     * Builds the engine.
     *
     * @throws IllegalStateException when the policies or the store were not given
     */
    public Engine build() {
      if (policies == null) {
        throw new IllegalStateException(EngineMessages.missing("policies(PolicySet)"));
      }
      if (store == null) {
        throw new IllegalStateException(EngineMessages.missing("store(Store)"));
      }
      return new Engine(this);
    }
  }
}
