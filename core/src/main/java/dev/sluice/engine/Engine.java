package dev.sluice.engine;

import dev.sluice.event.DecisionListener;
import dev.sluice.policy.PolicySet;
import dev.sluice.request.RequestView;
import dev.sluice.store.Consumption;
import dev.sluice.store.MemoryStore;
import dev.sluice.store.Store;
import dev.sluice.time.Clock;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * Decides requests: the whole hot path of Sluice in one walk.
 *
 * <pre>
 * request → client address (once) → exempt? → matching policies (or defaults)
 *         → each policy's identity (first of its by chain, else ip; each kind resolved once)
 *         → one Store.tryConsume per policy, all started before any is awaited → Decision
 * </pre>
 *
 * <p>Reload (SPEC §9): {@link #reload(PolicySet)} builds the next version of this engine (same
 * store, clock, listener and ban replica) and publishes it through a handle every version shares;
 * {@link #decide} reads that handle once per request, so a request is decided wholly under one
 * version, and every holder of any version (the proxy, the decision API) decides with the newest
 * one without knowing a reload happened. Buckets are keyed by policy name and identity, so a
 * policy whose limits did not change keeps its buckets' state; see the store for a changed limit.
 *
 * <p>Staged enforcement: a policy with {@code rollout} below 100% is decided for every request it
 * matches and its decision is marked shadow for identities outside its share ({@link
 * dev.sluice.policy.Rollout}). {@code defaults} apply when no matched policy is enforced for the
 * request (SPEC §2): when only shadow (or rolled-out-elsewhere) policies matched, the defaults are
 * decided as well, so shadowing a new policy never switches a route's limit off.
 *
 * <p>Thread-safe and immutable; a policy reload builds a new engine version. {@link #decide} never throws
 * and its stage never completes exceptionally: a failing store becomes a per-policy
 * {@code on_error} result, and an unexpected failure inside the engine applies the policy set's
 * {@code on_error} to the whole request.
 *
 * <h2>Abuse control (SPEC §7)</h2>
 *
 * <pre>
 * block: ip/api key listed → FORBIDDEN (before exemptions, no store call)
 * bans:  a policy's identity (or the client ip) banned in the local {@link BanList} → BLOCKED,
 *        no store call
 * then the rate limits as above, and after them, only for policies that use these features:
 *   refused + penalty   → recordOffence → putBan for min(ban × escalate^(n−1), max) → BLOCKED
 *   admitted + concurrency → acquirePermit; a full cap → LIMITED (concurrency), the policy's
 *        tokens refunded (the request never ran: treated like a refusal by its own limit,
 *        which consumes nothing)
 *   count → the tokens stay reserved; the Decision refunds them on a non-matching status or
 *        when the exchange ends without an answer
 * </pre>
 *
 * <p>Policy sets that use none of these features (no block list, no ban in the replica, no
 * count/penalty/concurrency on the matched policies) take exactly the path above the heading:
 * no extra allocation and exactly one store call per applied policy.
 */
public final class Engine {
  /*
   * The façade of one engine version. What it decides with is package-private: DecisionSteps (the
   * compiled policy set and the steps every path shares), OrdinaryPath (decide), FastPath
   * (decideNow, shared decisions), AbuseControl (penalties, permits, count reservations).
   */
  private final DecisionSteps steps;
  private final OrdinaryPath ordinary;
  /** The zero-allocation path; null when the store does not answer in the caller's thread. */
  private final FastPath fast;
  private final long permitLeaseNanos;
  /** The newest version; shared by every version of this engine (see the class comment). */
  private final AtomicReference<Engine> handle;

  private Engine(Builder b) {
    BanList bans = b.bans != null ? b.bans : new BanList(b.store, b.wallClock);
    this.steps = new DecisionSteps(b.policies, b.store, b.clock, b.listener,
        b.storeTimeout == null ? 0 : b.storeTimeout.toNanos(), b.wallClock, bans, b.timeOneIn);
    this.permitLeaseNanos = b.permitLease.toNanos();
    List<String> names = new ArrayList<>();
    b.policies.policies().forEach(p -> names.add(p.name()));
    b.policies.defaults().ifPresent(p -> names.add(p.name()));
    try {
      b.store.usePolicies(List.copyOf(names));
    } catch (RuntimeException e) {
      // a hint only: a store that cannot take it decides as before
    }
    this.ordinary = new OrdinaryPath(steps, new AbuseControl(steps, permitLeaseNanos));
    this.fast = b.store instanceof MemoryStore ? new FastPath(steps, ordinary) : null;
    this.handle = b.handle != null ? b.handle : new AtomicReference<>(this);
  }

  /**
   * Switches every holder of this engine (any version) to {@code next}: requests that already
   * started finish under the version they started with, later ones are decided under {@code
   * next}. Store, clocks, listener (and its timing sample), store timeout, permit lease and ban replica carry over. Safe
   * to call from any thread; concurrent reloads are applied one after the other.
   *
   * @return the new version (deciding through it or through this object is the same)
   */
  public Engine reload(PolicySet next) {
    Objects.requireNonNull(next, "next");
    synchronized (handle) {
      Builder b = builder().policies(next).store(steps.store).clock(steps.clock)
          .wallClock(steps.wallClock).bans(steps.bans);
      b.listener = steps.timed ? steps.listener : null;
      b.timeOneIn = steps.timed ? steps.timing.oneIn() : 1;
      b.storeTimeout = steps.storeTimeoutNanos > 0 ? Duration.ofNanos(steps.storeTimeoutNanos) : null;
      b.permitLease = Duration.ofNanos(permitLeaseNanos);
      b.handle = handle;
      Engine version = new Engine(b);
      handle.set(version);
      return version;
    }
  }

  /** The version requests are decided with now (this engine until a {@link #reload}). */
  public Engine current() {
    return handle.get();
  }

  /**
   * The local replica of the store's bans: the gateway calls {@link BanList#refresh()} on a
   * schedule and writes admin-API bans through {@link BanList#put} / {@link BanList#remove}.
   */
  public BanList bans() {
    return steps.bans;
  }

  /** Starts an engine; {@link Builder#policies} and {@link Builder#store} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The policy set requests are decided with now (the newest version's, after a reload). */
  public PolicySet policies() {
    return handle.get().steps.policySet;
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
    // One read per request: the request is decided wholly under this version.
    return handle.get().ordinary.decide(request);
  }

  /**
   * Decides one request at once, when its store answers in the caller's thread (the memory
   * store); otherwise returns {@code null} having consumed nothing, and the caller uses {@link
   * #decide}. The listener is called once, on this thread, before this returns.
   *
   * <p><b>The answer may be shared</b> (docs/design-decisions.md, "Shared decisions"): the
   * commonest answers — one policy of one GCRA limit, no count/concurrency/penalty, no ban —
   * are one {@link Decision} per policy, client and outcome, reused while that client keeps
   * getting that answer, so they allocate nothing. Its outcome, client, policies, identities
   * and {@code Retry-After} rule are fixed; its numbers ({@link Consumption#retryAfterNanos()},
   * {@link Consumption#limits()}) are {@linkplain Consumption#live() live}: read from the bucket
   * when asked. Read them on this thread before deciding the next request, or keep {@link
   * Decision#snapshot()}. Such a decision holds nothing to settle.
   *
   * <p>Never throws.
   *
   * @return the decision, or {@code null} when it must be awaited through {@link #decide}
   */
  public Decision decideNow(RequestView request) {
    Engine version = handle.get();
    return version.fast != null ? version.fast.decide(request) : null;
  }

  /**
   * Collects an engine's collaborators. Not thread-safe.
   */
  public static final class Builder {
    /** The default {@link #permitLease(Duration)}: 5 minutes. */
    public static final Duration DEFAULT_PERMIT_LEASE = Duration.ofMinutes(5);

    private PolicySet policies;
    private Store store;
    private Clock clock = Clock.system();
    private DecisionListener listener;
    private int timeOneIn = 1;
    private Duration storeTimeout;
    private InstantSource wallClock = InstantSource.system();
    private BanList bans;
    private Duration permitLease = DEFAULT_PERMIT_LEASE;
    private AtomicReference<Engine> handle;

    private Builder() {}

    /**
     * The wall clock bans expire by (epoch milliseconds, shared between instances); default
     * {@link InstantSource#system()}.
     */
    public Builder wallClock(InstantSource wallClock) {
      this.wallClock = Objects.requireNonNull(wallClock, "wallClock");
      return this;
    }

    /**
     * The ban replica to use; default a new one over the store. Pass the previous engine's
     * {@link Engine#bans()} on a policy reload so the replica carries over.
     */
    public Builder bans(BanList bans) {
      this.bans = Objects.requireNonNull(bans, "bans");
      return this;
    }

    /**
     * How long a concurrency permit survives without being released (a safety net for an
     * instance that dies mid-request); default {@link #DEFAULT_PERMIT_LEASE}. Make it longer
     * than the longest exchange (upstream timeout plus body transfer), or a slow request's
     * permit lapses while it still runs.
     *
     * @throws IllegalArgumentException when {@code lease} is zero or negative
     */
    public Builder permitLease(Duration lease) {
      this.permitLease = positive(lease, EngineMessages::badLease);
      return this;
    }

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
     * Times about one decision in {@code n} for the listener, each chosen at random; the listener
     * still sees every decision, the others with {@link DecisionListener#NOT_TIMED}, and for
     * those no clock is read. Default 1: every decision is timed.
     *
     * @throws IllegalArgumentException when {@code n} is less than 1
     */
    public Builder timeOneIn(int n) {
      if (n < 1) {
        throw new IllegalArgumentException(EngineMessages.badTimingSample(n));
      }
      this.timeOneIn = n;
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
      this.storeTimeout = positive(timeout, EngineMessages::badTimeout);
      return this;
    }

    private static Duration positive(Duration duration, Function<Duration, String> message) {
      Objects.requireNonNull(duration, "duration");
      if (duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException(message.apply(duration));
      }
      return duration;
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
