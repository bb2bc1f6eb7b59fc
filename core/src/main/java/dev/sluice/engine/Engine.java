package dev.sluice.engine;

import dev.sluice.event.DecisionListener;
import dev.sluice.identity.ClientAddress;
import dev.sluice.identity.Identity;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.match.RequestMatcher;
import dev.sluice.policy.OnError;
import dev.sluice.policy.Penalty;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.policy.Rollout;
import dev.sluice.request.RequestView;
import dev.sluice.store.Ban;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.MemoryStore;
import dev.sluice.store.Store;
import dev.sluice.store.StoreException;
import dev.sluice.store.StoreFullException;
import dev.sluice.time.Clock;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * <p>Design: everything that can be computed from the {@link PolicySet} alone (bucket specs, the
 * effective {@code on_error}, the distinct identity specs) is computed once in the builder, so a
 * request allocates little: for the common single-policy case one identity cache, one bucket key,
 * the store's answer and the decision. Policies are decided concurrently so a Redis store costs
 * one round-trip time however many policies match; see {@link Decision} for how their answers
 * combine.
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
 * <p>Rate limits are decided before the permit is taken so that a request the limits refuse
 * never holds (and never has to return) a permit, and the common path stays one round trip; the
 * price is one refund when the cap is full. A request that is not forwarded (any outcome but
 * ALLOWED) gets its count reservations refunded here at once: it never reached the upstream.
 *
 * <p>Store keys: offences and permits are keyed {@code <policy>|<identity key>} (policy names
 * never contain {@code |}); a shared store should add its own prefix and hash tag.
 *
 * <p>Offence memory: offences are counted per policy and identity over a sliding window of
 * {@code max(24h, penalty.max)}: a day without offences (or a whole maximal ban) forgives.
 *
 * <p>Policy sets that use none of these features (no block list, no ban in the replica, no
 * count/penalty/concurrency on the matched policies) take exactly the path above the heading:
 * no extra allocation and exactly one store call per applied policy.
 */
public final class Engine {
  private static final Object ABSENT = new Object();
  private static final PolicyDecision[] NO_DECISIONS = new PolicyDecision[0];
  private static final InetAddress UNKNOWN_ADDRESS = unknownAddress();

  private final PolicySet policySet;
  private final IdentityResolver resolver;
  private final Store store;
  private final Clock clock;
  private final DecisionListener listener;
  /** Whether a listener was given: without one, no clock is read to time decisions. */
  private final boolean timed;
  /** Which decisions are timed for the listener (all, or a random sample; none without one). */
  private final DecisionTiming timing;
  private final long storeTimeoutNanos;
  private final Applied[] applied;
  private final Applied defaults;
  private final IdentitySpec[] specs;
  /** SHA-256 digests (hex) of the exempt API keys; see {@link #digest(String)}. */
  private final Set<String> exemptKeyDigests;
  private final Set<String> blockKeyDigests;
  private final BanList bans;
  private final InstantSource wallClock;
  private final long permitLeaseNanos;
  /** The newest version; shared by every version of this engine (see the class comment). */
  private final AtomicReference<Engine> handle;
  /** Whether the store answers every call in the caller's thread (see {@link #decideNow}). */
  private final boolean answersNow;

  /** The shortest offence memory; see the class comment. */
  static final Duration MIN_OFFENCE_WINDOW = Duration.ofHours(24);

  private Engine(Builder b) {
    this.policySet = b.policies;
    this.resolver = b.policies.identity();
    this.store = b.store;
    this.clock = b.clock;
    this.listener = b.listener != null ? b.listener : DecisionListener.none();
    this.timed = b.listener != null;
    this.timing = new DecisionTiming(b.clock, timed ? b.timeOneIn : 0);
    this.storeTimeoutNanos = b.storeTimeout == null ? 0 : b.storeTimeout.toNanos();
    List<IdentitySpec> distinct = new ArrayList<>();
    List<Policy> list = policySet.policies();
    this.applied = new Applied[list.size()];
    for (int i = 0; i < applied.length; i++) {
      applied[i] = new Applied(list.get(i), policySet.onErrorOf(list.get(i)), distinct);
    }
    this.defaults = policySet.defaults()
        .map(p -> new Applied(p, policySet.onErrorOf(p), distinct))
        .orElse(null);
    this.specs = distinct.toArray(new IdentitySpec[0]);
    Set<String> digests = new HashSet<>();
    for (String key : policySet.exemptApiKeys()) {
      digests.add(digest(key));
    }
    this.exemptKeyDigests = Set.copyOf(digests);
    Set<String> blocked = new HashSet<>();
    for (String key : policySet.blockApiKeys()) {
      blocked.add(digest(key));
    }
    this.blockKeyDigests = Set.copyOf(blocked);
    this.wallClock = b.wallClock;
    this.bans = b.bans != null ? b.bans : new BanList(b.store, b.wallClock);
    this.permitLeaseNanos = b.permitLease.toNanos();
    List<String> names = new ArrayList<>();
    list.forEach(p -> names.add(p.name()));
    policySet.defaults().ifPresent(p -> names.add(p.name()));
    try {
      store.usePolicies(List.copyOf(names));
    } catch (RuntimeException e) {
      // a hint only: a store that cannot take it decides as before
    }
    this.handle = b.handle != null ? b.handle : new AtomicReference<>(this);
    this.answersNow = store instanceof MemoryStore;
  }

  /**
   * Switches every holder of this engine (any version) to {@code next}: requests that already
   * started finish under the version they started with, later ones are decided under {@code
   * next}. Store, clocks, listener (and its timing sample), store timeout, permit lease and ban
   * replica carry over. Safe to call from any thread; concurrent reloads are applied one after the
   * other.
   *
   * @return the new version (deciding through it or through this object is the same)
   */
  public Engine reload(PolicySet next) {
    Objects.requireNonNull(next, "next");
    synchronized (handle) {
      Builder b = builder().policies(next).store(store).clock(clock).wallClock(wallClock).bans(bans);
      b.listener = timed ? listener : null;
      b.timeOneIn = timed ? timing.oneIn() : 1;
      b.storeTimeout = storeTimeoutNanos > 0 ? Duration.ofNanos(storeTimeoutNanos) : null;
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
    return bans;
  }

  /** Starts an engine; {@link Builder#policies} and {@link Builder#store} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The policy set requests are decided with now (the newest version's, after a reload). */
  public PolicySet policies() {
    return handle.get().policySet;
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
    return handle.get().decideUnderThisVersion(request);
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
    return version.answersNow ? version.decideNowUnderThisVersion(request) : null;
  }

  private Decision decideNowUnderThisVersion(RequestView request) {
    long start = timing.start();
    ClientAddress client = null;
    Applied only = null;
    try {
      client = resolver.clientAddress(request);
      if (bans.isEmpty() && !isBlocked(request, client) && !isExempt(request, client)) {
        only = soleSimplePolicy(request.method(), request.path());
      }
    } catch (RuntimeException e) {
      return failed(request, client, start);
    }
    if (only == null) {
      // Every other path answers at once on the memory store too; it allocates as before.
      return decideUnderThisVersion(request).toCompletableFuture().join();
    }
    Identity identity = null;
    Consumption answer = null;
    BucketKey key = null;
    Shared again = null;
    try {
      if (only.ipOnly) {
        // The same client again: its ip identity and its bucket are the remembered ones.
        again = remembered(only, client);
        if (again != null && again.answer != null) {
          answer = store.tryConsumeAgain(again.answer, only.spec, only.policy.cost());
        }
      }
      if (answer == null) {
        identity = again != null ? again.identity : identityOf(only, request, client, null);
        key = sharedKey(only, identity);
        // Live answers only for an identity seen just before (ip), so that a bucket that is
        // decided once in a while keeps no live answers (memory per identity).
        answer = again != null || !only.ipOnly
            ? store.tryConsumeShared(key, only.spec, only.policy.cost())
            : store.tryConsumeNow(key, only.spec, only.policy.cost());
      } else {
        identity = again.identity;
        key = again.key;
      }
    } catch (RuntimeException e) {
      // A store's refusal to track a new identity (StoreFullException) and the policy's own
      // on_error are decided as on the ordinary path; only an identity that could not be
      // resolved falls back to the policy set's on_error.
      Identity who = identity != null ? identity : again != null ? again.identity : null;
      return who == null ? failed(request, client, start) : decided(request, client, only, who, null, e, start);
    }
    if (answer == null) {
      return failed(request, client, start);
    }
    if (!answer.live()) {
      if (only.ipOnly && (only.seen == null || (ThreadLocalRandom.current().nextInt() & 7) == 0)) {
        only.seen = new Shared(client, null, null, identity, key);
      }
      return decided(request, client, only, identity, answer, null, start);
    }
    Shared shared = answer.allowed() ? only.sharedAllowed : only.sharedRefused;
    if (shared != null && shared.answer == answer && shared.client == client) {
      return finish(request, shared.decision, start);
    }
    Decision decision;
    try {
      decision = Decision.ofOne(client, decision(only, identity, answer, null));
    } catch (RuntimeException e) {
      return failed(request, client, start);
    }
    // Remember it for the next request. An ip identity gets here only when seen just before;
    // other identities only now and then, so that many of them taking turns do not all write
    // the same field.
    if (shared == null || only.ipOnly || (ThreadLocalRandom.current().nextInt() & 7) == 0) {
      Shared next = new Shared(client, answer, decision, identity, key);
      if (answer.allowed()) {
        only.sharedAllowed = next;
      } else {
        only.sharedRefused = next;
      }
    }
    return finish(request, decision, start);
  }

  /** The remembered decision (or sighting) of {@code client} under {@code policy}, or null. */
  private static Shared remembered(Applied policy, ClientAddress client) {
    Shared s = policy.sharedAllowed;
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
  private static BucketKey sharedKey(Applied policy, Identity identity) {
    Shared s = policy.sharedAllowed;
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
    return bucketKey(policy, identity);
  }

  /**
   * The one policy that decides this request when it is the commonest kind (exactly one matched,
   * enforced for every identity or no defaults; or none matched and the defaults apply), with no
   * abuse control; else null.
   */
  private Applied soleSimplePolicy(String method, String path) {
    Applied first = null;
    for (Applied a : applied) {
      if (a.matcher.matches(method, path)) {
        if (first != null) {
          return null;
        }
        first = a;
      }
    }
    if (first == null) {
      first = defaults;
    } else if (defaults != null && first.rollout != Rollout.ALL) {
      return null;
    }
    return first == null || first.abuse ? null : first;
  }

  private CompletionStage<Decision> decideUnderThisVersion(RequestView request) {
    long start = timing.start();
    ClientAddress client = null;
    try {
      client = resolver.clientAddress(request);
      if (isBlocked(request, client)) {
        return CompletableFuture.completedFuture(finish(request, Decision.forbidden(client), start));
      }
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
      } else if (defaults != null && !surelyEnforced(first, matched, count)) {
        Object[] resolved = new Object[specs.length];
        if (!enforcedFor(request, client, first, matched, count, resolved)) {
          // SPEC §2: defaults apply when no policy is enforced for the request.
          Applied[] with = new Applied[count + 1];
          if (matched == null) {
            with[0] = first;
          } else {
            System.arraycopy(matched, 0, with, 0, count);
          }
          with[count] = defaults;
          boolean abuse = !bans.isEmpty();
          for (Applied a : with) {
            abuse |= a.abuse;
          }
          return abuse
              ? decideFull(request, client, with, count + 1, resolved, start)
              : decideMany(request, client, with, count + 1, resolved, start);
        }
      }
      boolean abuse = !bans.isEmpty();
      if (count == 1 && !abuse && !first.abuse) {
        return decideOne(request, client, first, start);
      }
      Object[] resolved = new Object[specs.length];
      if (count == 1) {
        return decideFull(request, client, new Applied[] {first}, 1, resolved, start);
      }
      for (int i = 0; i < count && !abuse; i++) {
        abuse = matched[i].abuse;
      }
      if (abuse) {
        return decideFull(request, client, matched, count, resolved, start);
      }
      return decideMany(request, client, matched, count, resolved, start);
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(failed(request, client, start));
    }
  }

  /** Whether a matched policy enforces every identity (no identity needs resolving to know). */
  private static boolean surelyEnforced(Applied first, Applied[] matched, int count) {
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
      RequestView request, ClientAddress client, Applied first, Applied[] matched, int count,
      Object[] resolved) {
    for (int i = 0; i < count; i++) {
      Applied a = matched == null ? first : matched[i];
      if (a.rollout > 0 && a.policy.enforces(identityOf(a, request, client, resolved).key())) {
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
      RequestView request, ClientAddress client, Applied policy, long start) {
    Identity identity = identityOf(policy, request, client, null);
    Consumption now;
    try {
      now = store.tryConsumeNow(bucketKey(policy, identity), policy.spec, policy.policy.cost());
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(decided(request, client, policy, identity, null, e, start));
    }
    if (now != null) {
      return CompletableFuture.completedFuture(decided(request, client, policy, identity, now, null, start));
    }
    return consume(policy, identity).handle(
        (consumption, error) -> decided(request, client, policy, identity, consumption, error, start));
  }

  /** The decision of {@link #decideOne} once the store answered (or failed). */
  private Decision decided(
      RequestView request, ClientAddress client, Applied policy, Identity identity,
      Consumption consumption, Throwable error, long start) {
    try {
      return finish(request, Decision.ofOne(client, decision(policy, identity, consumption, error)), start);
    } catch (RuntimeException e) {
      return failed(request, client, start);
    }
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
          decisions[slot] = inRollout(policy, identity, PolicyDecision.storeError(policy.policy, identity, policy.onError));
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

  /**
   * The path for requests where abuse control applies: bans checked first (no store call when
   * banned), then every policy consumed concurrently as in {@link #decideMany}, then
   * {@link #afterConsume} for penalties, permits and count reservations.
   */
  private CompletionStage<Decision> decideFull(
      RequestView request, ClientAddress client, Applied[] matched, int count, Object[] resolved,
      long start) {
    Identity[] ids = new Identity[count];
    for (int i = 0; i < count; i++) {
      ids[i] = identityOf(matched[i], request, client, resolved);
    }
    if (!bans.isEmpty()) {
      PolicyDecision[] banned = checkBans(request, client, matched, ids, count, resolved);
      if (banned != null) {
        return CompletableFuture.completedFuture(finish(request, Decision.ofArray(client, banned), start));
      }
    }
    PolicyDecision[] decisions = new PolicyDecision[count];
    CompletableFuture<Decision> result = new CompletableFuture<>();
    AtomicInteger pending = new AtomicInteger(count);
    for (int i = 0; i < count; i++) {
      Applied policy = matched[i];
      Identity identity = ids[i];
      int slot = i;
      consume(policy, identity).whenComplete((consumption, error) -> {
        try {
          decisions[slot] = decision(policy, identity, consumption, error);
        } catch (RuntimeException e) {
          decisions[slot] = inRollout(policy, identity, PolicyDecision.storeError(policy.policy, identity, policy.onError));
        }
        if (pending.decrementAndGet() == 0) {
          CompletionStage<Decision> after;
          try {
            after = afterConsume(client, matched, ids, decisions);
          } catch (RuntimeException e) {
            after = CompletableFuture.failedFuture(e);
          }
          after.whenComplete((decision, failure) -> {
            Decision done;
            try {
              done = failure == null ? finish(request, decision, start) : failed(request, client, start);
            } catch (RuntimeException e) {
              done = failed(request, client, start);
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
      RequestView request, ClientAddress client, Applied[] matched, Identity[] ids, int count,
      Object[] resolved) {
    long nowMillis = wallClock.millis();
    Identity ip = null;
    List<PolicyDecision> banned = null;
    for (int i = 0; i < count; i++) {
      String name = matched[i].policy.name();
      Identity who = ids[i];
      Ban ban = bans.find(name, who.key(), nowMillis);
      if (ban == null) {
        // A ban on the client's address applies whatever identity the policy counts by.
        if (ip == null) {
          ip = resolver.ipIdentity(client);
        }
        if (!ip.equals(who)) {
          ban = bans.find(name, ip.key(), nowMillis);
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
    return banned == null ? null : banned.toArray(NO_DECISIONS);
  }

  /** Penalties, permits and count reservations once every policy's store answer is in. */
  private CompletionStage<Decision> afterConsume(
      ClientAddress client, Applied[] matched, Identity[] ids, PolicyDecision[] decisions) {
    int count = decisions.length;
    boolean refused = false;
    for (PolicyDecision d : decisions) {
      refused |= !d.shadow() && !d.allowed();
    }
    if (refused) {
      refundReservations(matched, ids, decisions, null);
      List<CompletableFuture<Void>> penalties = null;
      for (int i = 0; i < count; i++) {
        Applied a = matched[i];
        PolicyDecision d = decisions[i];
        // A trip is a refusal by the policy's own limit; shadow policies never ban.
        if (a.policy.penalty().isPresent() && !d.shadow()
            && d.consumption() != null && !d.allowed()) {
          if (penalties == null) {
            penalties = new ArrayList<>();
          }
          int slot = i;
          penalties.add(penalize(a, ids[i], d).thenAccept(banned -> {
            if (banned != null) {
              decisions[slot] = banned;
            }
          }).toCompletableFuture());
        }
      }
      if (penalties == null) {
        return CompletableFuture.completedFuture(Decision.ofArray(client, decisions));
      }
      return CompletableFuture.allOf(penalties.toArray(new CompletableFuture<?>[0]))
          .thenApply(v -> Decision.ofArray(client, decisions));
    }
    // Admitted: take the permits of concurrency policies.
    List<CompletableFuture<Boolean>> permits = null;
    String[] permitKeys = new String[count];
    for (int i = 0; i < count; i++) {
      Applied a = matched[i];
      if (a.policy.concurrency() > 0) {
        if (permits == null) {
          permits = new ArrayList<>();
        }
        permitKeys[i] = a.policy.name() + "|" + ids[i].key();
        permits.add(acquire(permitKeys[i], a).toCompletableFuture());
      }
    }
    if (permits == null) {
      return CompletableFuture.completedFuture(
          Decision.settled(client, decisions, settlement(matched, ids, decisions, List.of())));
    }
    List<CompletableFuture<Boolean>> taken = permits;
    return CompletableFuture.allOf(taken.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
      List<String> held = new ArrayList<>();
      boolean[] refunded = new boolean[count];
      boolean full = false;
      int k = 0;
      for (int i = 0; i < count; i++) {
        if (permitKeys[i] == null) {
          continue;
        }
        Boolean answer = taken.get(k++).join();
        if (answer == null) {
          // The store failed and the policy's on_error is allow: proceed without a permit.
          continue;
        }
        if (answer) {
          held.add(permitKeys[i]);
        } else {
          full = true;
          PolicyDecision d = decisions[i];
          if (d.consumption() != null && d.consumption().allowed()) {
            Applied a = matched[i];
            Settlement.refund(store, bucketKey(a, ids[i]), a.spec, a.policy.cost());
            refunded[i] = true;
          }
          decisions[i] = PolicyDecision.concurrencyLimited(matched[i].policy, ids[i], d.consumption());
        }
      }
      if (full) {
        for (String key : held) {
          releasePermit(key);
        }
        refundReservations(matched, ids, decisions, refunded);
        return Decision.ofArray(client, decisions);
      }
      return Decision.settled(client, decisions, settlement(matched, ids, decisions, held));
    });
  }

  /**
   * One permit: completes with true (taken) or false (cap full), or null when the store failed
   * under {@code on_error: allow}. Never completes exceptionally.
   */
  private CompletionStage<Boolean> acquire(String key, Applied a) {
    CompletionStage<Boolean> stage;
    try {
      stage = bounded(store.acquirePermit(key, a.policy.concurrency(), permitLeaseNanos));
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    return stage.handle((acquired, error) -> {
      if (error == null && acquired != null) {
        return acquired;
      }
      // A store that cannot count permits follows on_error: allow proceeds uncapped, deny
      // refuses as if the cap were full (a 429 with Retry-After: 1 the client can retry).
      return a.onError == OnError.ALLOW ? null : Boolean.FALSE;
    });
  }

  private void releasePermit(String key) {
    try {
      store.releasePermit(key);
    } catch (RuntimeException e) {
      // the lease ends it
    }
  }

  /** Refunds the count reservations of a request that is not forwarded. */
  private void refundReservations(
      Applied[] matched, Identity[] ids, PolicyDecision[] decisions, boolean[] alreadyRefunded) {
    for (int i = 0; i < decisions.length; i++) {
      Applied a = matched[i];
      PolicyDecision d = decisions[i];
      if (!a.policy.count().isEmpty() && d.consumption() != null && d.consumption().allowed()
          && (alreadyRefunded == null || !alreadyRefunded[i])) {
        Settlement.refund(store, bucketKey(a, ids[i]), a.spec, a.policy.cost());
      }
    }
  }

  /** What a forwarded request holds; null when nothing (no extra object for plain policies). */
  private Settlement settlement(
      Applied[] matched, Identity[] ids, PolicyDecision[] decisions, List<String> permits) {
    List<Settlement.Reservation> reservations = null;
    for (int i = 0; i < decisions.length; i++) {
      Applied a = matched[i];
      PolicyDecision d = decisions[i];
      if (!a.policy.count().isEmpty() && d.consumption() != null && d.consumption().allowed()) {
        if (reservations == null) {
          reservations = new ArrayList<>();
        }
        reservations.add(new Settlement.Reservation(a.policy, bucketKey(a, ids[i]), a.spec));
      }
    }
    if (reservations == null && permits.isEmpty()) {
      return null;
    }
    return new Settlement(store, reservations == null ? List.of() : reservations, permits);
  }

  /**
   * Records the offence and bans the identity; completes with the banned decision, or null when
   * the store could not (the request then stays an ordinary 429).
   */
  private CompletionStage<PolicyDecision> penalize(Applied a, Identity identity, PolicyDecision tripped) {
    Penalty penalty = a.policy.penalty().orElseThrow();
    long window = Math.max(MIN_OFFENCE_WINDOW.toNanos(), penalty.max().toNanos());
    String scope = penalty.scope() == Penalty.Scope.ALL ? Ban.ALL_POLICIES : a.policy.name();
    CompletionStage<PolicyDecision> stage;
    try {
      stage = bounded(store.recordOffence(BanLifter.offenceKey(a.policy.name(), identity.key()), window))
          .thenCompose(n -> {
            Duration length = penalty.banFor(n);
            Ban ban = Ban.penalty(a.policy.name(), scope, identity.key(),
                wallClock.millis() + length.toMillis(),
                EngineMessages.banReason(a.policy, tripped.itemName(), n, length));
            return bounded(bans.put(ban))
                .thenApply(v -> PolicyDecision.banned(
                    a.policy, identity, tripped.consumption(), ban, length.toNanos()));
          });
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(null);
    }
    return stage.exceptionally(e -> null);
  }

  private static BucketKey bucketKey(Applied a, Identity identity) {
    return new BucketKey(a.policy.name(), identity.key());
  }

  private boolean isBlocked(RequestView request, ClientAddress client) {
    if (!policySet.blockIps().isEmpty() && policySet.blockIps().contains(client.client())) {
      return true;
    }
    if (blockKeyDigests.isEmpty()) {
      return false;
    }
    Optional<String> key = resolver.rawApiKey(request);
    return key.isPresent() && blockKeyDigests.contains(digest(key.get()));
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

  /**
   * The first identity of the policy's chain the request has, else its ip; each spec resolved once
   * per request when {@code resolved} (a cache shared by the request's policies) is given.
   */
  private Identity identityOf(Applied policy, RequestView request, ClientAddress client, Object[] resolved) {
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

  private CompletionStage<Consumption> consume(Applied policy, Identity identity) {
    CompletionStage<Consumption> stage;
    try {
      stage = store.tryConsume(bucketKey(policy, identity), policy.spec, policy.policy.cost());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return bounded(stage);
  }

  /** The store's stage, failed after the engine's store timeout when one is set. */
  private <T> CompletionStage<T> bounded(CompletionStage<T> stage) {
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

  private static PolicyDecision decision(
      Applied policy, Identity identity, Consumption consumption, Throwable error) {
    if (error != null
        && (error instanceof StoreFullException || error.getCause() instanceof StoreFullException)) {
      // The store cannot track a new identity: refused whatever on_error says (see StoreFullException).
      return PolicyDecision.storeFull(policy.policy, identity);
    }
    if (error != null || consumption == null || !wellFormed(consumption, policy.spec)) {
      return inRollout(policy, identity, PolicyDecision.storeError(policy.policy, identity, policy.onError));
    }
    return inRollout(policy, identity, PolicyDecision.of(policy.policy, identity, consumption));
  }

  /** The decision in shadow when a partial rollout leaves this identity out. */
  private static PolicyDecision inRollout(Applied policy, Identity identity, PolicyDecision d) {
    if (policy.rollout > 0 && policy.rollout < Rollout.ALL
        && !policy.policy.enforces(identity.key())) {
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

  private Decision finish(RequestView request, Decision decision, long start) {
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

  /**
   * A decision remembered for reuse by {@link #decideNow} (or, with a null answer and decision, a
   * client just seen): immutable, safely published.
   */
  private static final class Shared {
    final ClientAddress client;
    final Consumption answer;
    final Decision decision;
    final Identity identity;
    final BucketKey key;

    Shared(ClientAddress client, Consumption answer, Decision decision, Identity identity, BucketKey key) {
      this.client = client;
      this.answer = answer;
      this.decision = decision;
      this.identity = identity;
      this.key = key;
    }
  }

  /** A policy with everything the hot path needs about it precomputed. */
  private static final class Applied {
    /** The last shared allowed / refused decision of this policy (racy: any one will do). */
    Shared sharedAllowed;
    Shared sharedRefused;
    /** The last client (ip policies) decided without a shared decision: a candidate for one. */
    Shared seen;
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

    Applied(Policy policy, OnError onError, List<IdentitySpec> distinct) {
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
