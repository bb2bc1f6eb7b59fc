package dev.sluice.store.redis;

import dev.sluice.store.Ban;
import dev.sluice.store.BreakerStatus;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.PenaltyBound;
import dev.sluice.store.PenaltyRefusedException;
import dev.sluice.store.Store;
import dev.sluice.store.StoreException;
import dev.sluice.time.Clock;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.api.async.BaseRedisAsyncCommands;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.resource.ClientResources;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Store} in Redis (6+/7, Valkey) or Redis Cluster, shared by any number of gateway
 * instances. Each decision is one round trip: a Lua script ({@code decide.lua}, called by EVALSHA
 * and re-sent with EVAL after a {@code NOSCRIPT} reply) evaluates every limit of the bucket
 * all-or-none with the server's {@code TIME}, so gateway clock skew never matters.
 *
 * <p>Concurrency: thread-safe; one multiplexed connection per store. Calls never block: the
 * returned stages complete on Lettuce's I/O threads (or at once, when failing fast).
 *
 * <p>Failure: every call is bounded by {@link RedisStoreOptions#timeout()}; timeouts, refused or
 * lost connections and server errors complete the stage with a {@link StoreException}. A
 * connection failure or timeout opens a circuit breaker: for one
 * {@link RedisStoreOptions#probeInterval()} every call fails fast, then one call probes Redis and
 * closes the breaker if it succeeds. Lettuce reconnects by itself in the background; commands
 * issued while disconnected are rejected at once and nothing is buffered for replay, so a late
 * reconnect can never apply a decision the caller already gave up on.
 *
 * <p>Sharing: buckets are named by {@code sluice:v1:{policy:identity}:…} keys that expire exactly
 * when the bucket is full again. See {@code docs/distributed.md}.
 *
 * <p>Abuse control (SPEC §7): refunds, offence counts, bans and concurrency permits are one
 * round trip each too, through a second script ({@code abuse.lua}) with the same server clock,
 * timeout and circuit breaker, and mirror {@link dev.sluice.store.MemoryStore}'s semantics. Every
 * key they write has a TTL; bans live in one hash shared by all instances (one cluster slot).
 */
public final class RedisStore implements Store, PenaltyBound, BreakerStatus {

  private final ClientResources resources;
  private final AutoCloseable client;
  private final AutoCloseable connection;
  private final BaseRedisAsyncCommands<String, String> base;
  private final DecisionScript script;
  private final DecisionCommand decisions;
  /** Per policy, the spec before a reload changed its limits (migration source of new keys). */
  private final SpecLineage lineage = new SpecLineage();
  /** GCRA refusals answered locally while certain (see {@link RefusalCache}). */
  private final RefusalCache refusals;
  private final AbuseScript abuse;
  /** Names this store's permits apart from other instances' (permit members must be unique). */
  private final String permitPrefix = Long.toHexString(ThreadLocalRandom.current().nextLong()) + ":";
  private final AtomicLong permitCounter = new AtomicLong();
  private final CircuitBreaker breaker;
  /** Test seam: null = the server's TIME (production). */
  private final DecisionScript.TestTime testTime;
  private final AtomicBoolean closed = new AtomicBoolean();
  /** Every call but decisions, with the error handling around them (decisions use its settle). */
  private final RedisCalls calls;
  /** The ban list and the generation tracking. */
  private final RedisBans bans;

  RedisStore(
      RedisStoreOptions options,
      ClientResources resources,
      AutoCloseable client,
      AutoCloseable connection,
      RedisScriptingAsyncCommands<String, String> scripting,
      BaseRedisAsyncCommands<String, String> base,
      DecisionScript.TestTime testTime) {
    this.resources = resources;
    this.client = client;
    this.connection = connection;
    this.base = base;
    this.script = DecisionScript.INSTANCE;
    this.decisions = new DecisionCommand(script);
    this.abuse = AbuseScript.INSTANCE;
    this.breaker = new CircuitBreaker(Clock.system(), options.probeInterval().toNanos());
    this.testTime = testTime;
    this.refusals = RefusalCache.forStore(testTime);
    this.calls = new RedisCalls(options.timeout(), scripting, abuse, breaker, closed);
    this.bans = new RedisBans(calls, abuse, refusals, testTime);
  }

  /**
   * Connects to Redis (one URL) or a Redis Cluster (several seed URLs, or one URL of a node that
   * reports {@code cluster_enabled:1}) and loads the decision script. Blocks the calling thread until connected (up to the larger of the timeout and 5
   * seconds per step); call it at startup, not on an event loop.
   *
   * @throws StoreException when Redis cannot be reached or rejects the credentials
   */
  public static RedisStore connect(RedisStoreOptions options) {
    return connect(options, null);
  }

  static RedisStore connect(RedisStoreOptions options, DecisionScript.TestTime testTime) {
    return RedisStartup.connect(options, testTime);
  }

  /**
   * {@inheritDoc}
   *
   * <p>One {@code EVALSHA} round trip; completes on Lettuce's I/O thread. Fails with a
   * {@link StoreException} on timeout, connection failure, open circuit, or a limit whose
   * lookahead exceeds what the script computes exactly (about 104 days; see
   * {@code docs/distributed.md}).
   *
   * @throws IllegalArgumentException (synchronously, like the memory store) when {@code cost} is
   *     below 1 or above a limit's capacity (burst for GCRA, N for the sliding window)
   */
  @Override
  public CompletionStage<Consumption> tryConsume(BucketKey key, BucketSpec spec, long cost) {
    DecisionCommand.Prepared prepared;
    try {
      BucketSpec previous = lineage.previousOf(key.policy(), spec);
      prepared = testTime == null
          ? decisions.prepare(spec, cost, previous)
          : decisions.prepare(spec, cost, testTime, previous);
    } catch (StoreException e) {
      return CompletableFuture.failedFuture(e);
    }
    // RedisCalls.call's checks, with the refusal cache between them: a known refusal needs no
    // permit.
    if (closed.get()) {
      return CompletableFuture.failedFuture(calls.closedError(deciding(key)));
    }
    Consumption known = refusals.lookup(key, spec, cost);
    if (known != null) {
      return CompletableFuture.completedFuture(known);
    }
    CircuitBreaker.Permit permit = breaker.acquire();
    if (permit == CircuitBreaker.Permit.REJECT) {
      return CompletableFuture.failedFuture(calls.breakerOpen());
    }
    CompletableFuture<Consumption> result = new CompletableFuture<>();
    decide(key, prepared, false, permit, result, refusals.now(), refusals.epoch(key));
    return result;
  }

  /**
   * Sends one decision and completes {@code result} from its reply, on Lettuce's I/O thread; after
   * a {@code NOSCRIPT} reply (SCRIPT FLUSH, a restart without persistence, a failover to a node
   * that never saw the script) sends it once more as EVAL, which also caches the script there.
   * One future per decision besides Lettuce's own: this is the store's hot path.
   */
  private void decide(BucketKey key, DecisionCommand.Prepared prepared, boolean withSource,
      CircuitBreaker.Permit permit, CompletableFuture<Consumption> result, long sentAt, long epoch) {
    DecisionCommand.Reply reply = new DecisionCommand.Reply();
    CompletionStage<long[]> sent;
    try {
      sent = base.dispatch(withSource ? CommandType.EVAL : CommandType.EVALSHA, reply,
          decisions.args(key, prepared, withSource));
    } catch (RuntimeException e) { // Lettuce rejects synchronously in a few cases (queue full)
      calls.settle(result, permit, deciding(key), null, e);
      return;
    }
    sent.whenComplete((values, error) -> {
      if (error == null) {
        Consumption consumption;
        try {
          consumption = DecisionCommand.consumption(reply, prepared.limits());
        } catch (StoreException e) {
          calls.settle(result, permit, null, null, e);
          return;
        }
        refusals.remember(key, prepared.spec(), sentAt, epoch, reply.get());
        calls.settle(result, permit, null, consumption, null);
      } else if (!withSource && RedisCalls.unwrap(error) instanceof RedisNoScriptException) {
        decide(key, prepared, true, permit, result, sentAt, epoch);
      } else {
        calls.settle(result, permit, deciding(key), null, error);
      }
    });
  }

  /**
   * A call that may lower a bucket's debt: the key's local refusal hint is dropped before it is sent and
   * again when it has run, so none kept from a reply of a decision that ran before it survives.
   */
  private <T> CompletionStage<T> lowering(BucketKey key, java.util.function.Supplier<CompletionStage<T>> call) {
    refusals.invalidate(key);
    return call.get().whenComplete((value, error) -> refusals.invalidate(key));
  }

  private static String deciding(BucketKey key) {
    return "deciding policy '" + key.policy() + "'";
  }

  /** {@code PING} through the circuit breaker: while it is open this fails fast. */
  @Override
  public CompletionStage<Void> ping() {
    return calls.call("PING", () -> base.ping().thenApply(pong -> (Void) null));
  }

  /** Whether the circuit breaker is open (Redis recently failed; calls fail fast until a probe succeeds). */
  @Override
  public boolean circuitOpen() {
    return breaker.isOpen();
  }

  /**
   * {@inheritDoc}
   *
   * <p>One script call on the bucket's keys, mirroring the memory store exactly (a differential
   * test checks it to the nanosecond): GCRA moves each limit's stored TAT back by
   * {@code cost × T}, deleting the key when that makes the bucket full; the sliding window drops
   * the newest {@code cost} entries of each limit's list and shortens its TTL to match. A missing
   * key (bucket full or expired) is left alone.
   *
   * @throws IllegalArgumentException (synchronously, like the memory store) when {@code cost} is
   *     below 1 or above a limit's capacity
   */
  @Override
  public CompletionStage<Void> refund(BucketKey key, BucketSpec spec, long cost) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(spec, "spec");
    String[] keys;
    String[] args;
    try {
      keys = RedisKeys.keys(key, spec);
      args = abuse.refund(spec, cost, testTime);
    } catch (StoreException e) {
      return CompletableFuture.failedFuture(e);
    }
    return lowering(key, () -> calls.call("refunding policy '" + key.policy() + "'",
        () -> calls.evalAbuse(keys, args, "refund").thenApply(reply -> (Void) null)));
  }

  /**
   * {@inheritDoc}
   *
   * <p>A list of offence times per key ({@code sluice:v1:offence:{key}}) trimmed to the window
   * (server clock) and to {@value AbuseScript#MAX_OFFENCES_PER_KEY} entries, so the count
   * saturates there like the memory store's; TTL = the window.
   *
   * @throws IllegalArgumentException (synchronously) when {@code windowNanos < 1}
   */
  @Override
  public CompletionStage<Long> recordOffence(String offenceKey, long windowNanos) {
    Objects.requireNonNull(offenceKey, "offenceKey");
    if (windowNanos < 1) {
      throw new IllegalArgumentException("offence window must be positive, got " + windowNanos + "ns");
    }
    String[] keys = {RedisKeys.offence(offenceKey)};
    String[] args = abuse.offence(windowNanos, testTime);
    return calls.call("recording an offence", () -> calls.evalAbuse(keys, args, "offence"));
  }

  /** {@inheritDoc} One script call deleting the bucket's keys (one slot: they share a hash tag). */
  @Override
  public CompletionStage<Void> forgetBucket(BucketKey key, BucketSpec spec) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(spec, "spec");
    String[] keys = RedisKeys.keys(key, spec);
    String[] args = abuse.forget(testTime);
    return lowering(key, () -> calls.call("forgetting a bucket of policy '" + key.policy() + "'",
        () -> calls.evalAbuse(keys, args, "forget").thenApply(n -> (Void) null)));
  }

  @Override
  public CompletionStage<Void> forgetOffences(String offenceKey) {
    Objects.requireNonNull(offenceKey, "offenceKey");
    String[] keys = {RedisKeys.offence(offenceKey)};
    String[] args = abuse.forget(testTime);
    return calls.call("forgetting offences", () -> calls.evalAbuse(keys, args, "forget").thenApply(n -> (Void) null));
  }

  /**
   * {@inheritDoc}
   *
   * <p>Bans are one hash ({@code sluice:v1:{bans}}) plus an expiry index and a version, shared
   * by every instance; expired bans are pruned by the server's clock on every ban call, and all
   * three keys expire with the longest ban. A ban whose expiry has already passed only removes an earlier
   * ban with its id. No live ban is ever evicted (as in the memory store): at most {@value
   * AbuseScript#MAX_BANS} operator bans are held, and per policy {@code MAX_BANS / policies}
   * penalty bans; a new ban beyond its bound fails the stage ({@link PenaltyRefusedException} for
   * a penalty, counted in {@link #penaltiesRefused()}; a {@link StoreException} for an operator's
   * ban). A penalty ban never replaces a live operator ban with the same id (it is ignored).
   */
  @Override
  public CompletionStage<Void> putBan(Ban ban) {
    return bans.putBan(ban);
  }

  /** {@inheritDoc} Divides the penalty bans into one share per policy. */
  @Override
  public void usePolicies(Collection<String> policies) {
    bans.usePolicies(policies);
  }

  @Override
  public long penaltiesRefused() {
    return bans.penaltiesRefused();
  }

  @Override
  public CompletionStage<Boolean> removeBan(String id) {
    return bans.removeBan(id);
  }

  /**
   * {@inheritDoc}
   *
   * <p>One script call: prunes expired bans, then returns the rest — or, when nothing changed
   * since this store's previous list (the registry carries a version that every change renews),
   * only that version, and the previous list is returned again. So the engine's refresh every
   * 250 ms costs Redis O(1), not O(bans), while no ban changes.
   */
  @Override
  public CompletionStage<List<Ban>> listBans() {
    return bans.listBans();
  }

  /**
   * {@inheritDoc}
   *
   * <p>Redis: the generation key ({@code sluice:v1:{bans}:generation}, no TTL) is set by the
   * first instance that finds it missing and read by every {@link #listBans()} (the gateway's
   * ban refresh, every 250 ms: no extra round trip, nothing on the decision path). A generation
   * different from the one this store saw last means the data set was erased (FLUSHALL,
   * FLUSHDB, a restart without persistence, a failover to an empty replica); each such change
   * counts once per store, whichever instance set the new generation. On Redis Cluster only the
   * node holding the {@code {bans}} slot is watched.
   */
  @Override
  public long resets() {
    return bans.resets();
  }

  /**
   * {@inheritDoc}
   *
   * <p>A sorted set per key ({@code sluice:v1:permit:{key}}) with one member per permit held,
   * scored by its own lease end (microseconds, server clock): ended leases are dropped before
   * counting, so a permit leaked by a crashed instance frees itself after its lease even while
   * others keep acquiring. Leases above ~104 days are cut to that. TTL = the longest lease held.
   *
   * @throws IllegalArgumentException (synchronously) when {@code max < 1} or {@code leaseNanos < 1}
   */
  @Override
  public CompletionStage<Boolean> acquirePermit(String key, int max, long leaseNanos) {
    Objects.requireNonNull(key, "key");
    if (max < 1 || leaseNanos < 1) {
      throw new IllegalArgumentException(
          "a permit needs max >= 1 and a positive lease, got max " + max + " and lease " + leaseNanos + "ns");
    }
    String[] keys = {RedisKeys.permit(key)};
    String[] args = abuse.acquirePermit(max, leaseNanos,
        permitPrefix + Long.toHexString(permitCounter.incrementAndGet()), testTime);
    return calls.call("acquiring a permit", () -> calls.evalAbuse(keys, args, "permit_acquire").thenApply(n -> n == 1));
  }

  /**
   * {@inheritDoc}
   *
   * <p>Permits carry no owner: the one whose lease ends soonest is removed (as in the memory
   * store), without dropping ended leases first, so a caller whose own lease already ended
   * removes that entry rather than a live permit. Releasing with no permit held does nothing.
   */
  @Override
  public CompletionStage<Void> releasePermit(String key) {
    Objects.requireNonNull(key, "key");
    String[] keys = {RedisKeys.permit(key)};
    String[] args = abuse.releasePermit(testTime);
    return calls.call("releasing a permit", () -> calls.evalAbuse(keys, args, "permit_release").thenApply(n -> (Void) null));
  }

  /** Closes the connection and Lettuce's threads; later calls fail with a StoreException. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    closeConnection();
    resources.shutdown(0, 2, TimeUnit.SECONDS);
  }

  /** Closes the connection and the client, not the shared resources. */
  void closeConnection() {
    try {
      connection.close();
    } catch (Exception e) {
      // closing anyway: nothing useful to do with a failure to say goodbye
    }
    try {
      client.close();
    } catch (Exception e) {
      // see above
    }
  }
}
