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
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisBusyException;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.protocol.ProtocolKeyword;
import io.lettuce.core.protocol.RedisCommand;
import io.lettuce.core.api.async.BaseRedisAsyncCommands;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.DefaultClientResources;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

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

  /** Commands that may wait in the connection's queue; beyond it calls fail fast (hung server). */
  static final int REQUEST_QUEUE_SIZE = 10_000;

  /**
   * Commands in flight when a connection drops are not re-sent after the reconnect (Lettuce's
   * default is to replay them): Redis may already have run them, and a decision must run at most
   * once. Their callers get a StoreException instead. With REJECT_COMMANDS Lettuce 7.7 already
   * fails them (RedisStoreFailureTest checks the outcome, and fails with ACCEPT_COMMANDS plus
   * replay); this filter keeps it so should that interplay change.
   */
  private static final java.util.function.Predicate<RedisCommand<?, ?, ?>> NEVER_REPLAY = command -> true;

  /** The bans hash, its expiry index and version: one slot ({@code {bans}}), updated together. */
  private static final String[] BAN_KEYS =
      {RedisKeys.BANS, RedisKeys.BAN_EXPIRY, RedisKeys.BAN_VERSION, RedisKeys.BAN_HELD};
  /** {@link #BAN_KEYS} and the generation (same slot), for {@code ban_list}. */
  private static final String[] LIST_KEYS =
      {RedisKeys.BANS, RedisKeys.BAN_EXPIRY, RedisKeys.BAN_VERSION, RedisKeys.BAN_HELD, RedisKeys.GENERATION};

  /** Lettuce's switch for its io_uring transport (see {@link #connect}). */
  private static final String LETTUCE_IO_URING = "io.lettuce.core.iouring";

  /** The least time allowed for connecting and the handshake (commands use the store timeout). */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

  private final RedisStoreOptions options;
  private final ClientResources resources;
  private final AutoCloseable client;
  private final AutoCloseable connection;
  private final RedisScriptingAsyncCommands<String, String> scripting;
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
  /** The last ban list read, reused while the registry's version is unchanged. */
  private final AtomicReference<AbuseScript.BanList> bans = new AtomicReference<>(AbuseScript.BanList.NONE);
  /** The store's generation as last seen by {@link #listBans()}; null before the first list. */
  private final AtomicReference<String> generation = new AtomicReference<>();
  private final AtomicLong resets = new AtomicLong();
  private final CircuitBreaker breaker;
  /** Test seam: null = the server's TIME (production). */
  private final DecisionScript.TestTime testTime;
  private final AtomicBoolean closed = new AtomicBoolean();
  /** The most penalty bans one policy may hold: MAX_BANS / policies in use. */
  private volatile long banShare = AbuseScript.MAX_BANS;
  private final LongAdder penaltiesRefused = new LongAdder();

  private RedisStore(
      RedisStoreOptions options,
      ClientResources resources,
      AutoCloseable client,
      AutoCloseable connection,
      RedisScriptingAsyncCommands<String, String> scripting,
      BaseRedisAsyncCommands<String, String> base,
      DecisionScript.TestTime testTime) {
    this.options = options;
    this.resources = resources;
    this.client = client;
    this.connection = connection;
    this.scripting = scripting;
    this.base = base;
    this.script = DecisionScript.INSTANCE;
    this.decisions = new DecisionCommand(script);
    this.abuse = AbuseScript.INSTANCE;
    this.breaker = new CircuitBreaker(Clock.system(), options.probeInterval().toNanos());
    this.testTime = testTime;
    this.refusals = RefusalCache.forStore(testTime);
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
    // Connecting (TCP, TLS, HELLO/AUTH) is not on a request's path, so it gets more time than a
    // decision: a cold JVM on a busy host easily needs more than a 50 ms decision timeout.
    Duration connectTimeout = options.timeout().compareTo(CONNECT_TIMEOUT) > 0
        ? options.timeout() : CONNECT_TIMEOUT;
    // Reconnect quickly (Redis usually comes back on the same address after a restart or
    // failover); the exponential ceiling keeps a long outage from being hammered.
    // The gateway's io_uring library is on the class path too; Lettuce then keeps epoll (as it
    // did before) but warns at every connect that it chose. Its own switch says so up front.
    if (System.getProperty(LETTUCE_IO_URING) == null) {
      System.setProperty(LETTUCE_IO_URING, "false");
    }
    ClientResources resources = DefaultClientResources.builder()
        .reconnectDelay(Delay.exponential(Duration.ofMillis(20), Duration.ofMillis(500), 2,
            TimeUnit.MILLISECONDS))
        .build();
    SocketOptions socket = SocketOptions.builder()
        .connectTimeout(connectTimeout).keepAlive(true).tcpNoDelay(true).build();
    TimeoutOptions timeouts = timeouts(options.timeout(), connectTimeout);
    // Credentials, TLS and its verification: RedisConnections (docs/operations.md, store.tls).
    List<RedisURI> uris = RedisConnections.uris(options, connectTimeout);
    java.util.Optional<io.lettuce.core.SslOptions> ssl = RedisConnections.ssl(options, connectTimeout);
    String target = RedisConnections.target(options);
    try {
      if (!options.cluster()) {
        RedisClient client = RedisClient.create(resources);
        client.setOptions(ClientOptions.builder()
            .autoReconnect(true)
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .replayFilter(NEVER_REPLAY)
            .requestQueueSize(REQUEST_QUEUE_SIZE)
            .socketOptions(socket)
            .timeoutOptions(timeouts)
            .sslOptions(ssl.orElseGet(io.lettuce.core.SslOptions::create))
            .build());
        StatefulRedisConnection<String, String> connection;
        try {
          connection = client.connect(uris.get(0));
        } catch (RuntimeException e) {
          client.shutdown();
          throw e;
        }
        // One URL may still name a cluster node: then use the cluster client, which follows the
        // slots; the standalone one would get MOVED for most buckets.
        boolean clusterNode;
        try {
          clusterNode = connection.sync().info("cluster").contains("cluster_enabled:1");
        } catch (RedisCommandExecutionException e) {
          clusterNode = false; // INFO denied by an ACL: a restricted user on a plain server
        } catch (RuntimeException e) {
          connection.close();
          client.shutdown();
          throw e;
        }
        if (!clusterNode) {
          return started(new RedisStore(options, resources, client::shutdown, connection,
              connection.async(), connection.async(), testTime));
        }
        connection.close();
        client.shutdown();
      }
      RedisClusterClient client = RedisClusterClient.create(resources, uris);
      ClusterClientOptions.Builder clusterOptions = ClusterClientOptions.builder()
          .autoReconnect(true)
          .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
          .requestQueueSize(REQUEST_QUEUE_SIZE)
          .socketOptions(socket)
          .timeoutOptions(timeouts)
          .maxRedirects(3)
          .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
              // Failover and resharding show up as redirects, reconnects and unknown nodes: Lettuce 7
              // enables every adaptive trigger by default (MOVED, ASK, persistent reconnects,
              // uncovered slot, unknown node); we only react sooner and add a periodic refresh.
              .refreshTriggersReconnectAttempts(3)
              .adaptiveRefreshTriggersTimeout(Duration.ofSeconds(5))
              .enablePeriodicRefresh(Duration.ofSeconds(30))
              .build());
      ssl.ifPresent(clusterOptions::sslOptions);
      clusterOptions.replayFilter(NEVER_REPLAY); // inherited setter: returns the base builder type
      client.setOptions(clusterOptions.build());
      try {
        StatefulRedisClusterConnection<String, String> connection = client.connect();
        return started(new RedisStore(options, resources, client::shutdown, connection,
            connection.async(), connection.async(), testTime));
      } catch (RuntimeException e) {
        client.shutdown();
        throw e;
      }
    } catch (StoreException e) {
      resources.shutdown();
      throw e;
    } catch (RuntimeException e) {
      resources.shutdown();
      throw new StoreException(RedisMessages.cannotConnectBecause(target, RedisConnections.why(e)), e);
    }
  }

  /**
   * Decisions and PING get the store timeout; the setup commands (INFO, SCRIPT LOAD) get the
   * connect timeout, since a cold start on a busy host may need more than 50 ms for them.
   */
  private static TimeoutOptions timeouts(Duration decision, Duration setup) {
    long decisionNanos = decision.toNanos();
    long setupNanos = setup.toNanos();
    return TimeoutOptions.builder().timeoutCommands(true).timeoutSource(new TimeoutOptions.TimeoutSource() {
      @Override
      public long getTimeout(RedisCommand<?, ?, ?> command) {
        ProtocolKeyword type = command.getType();
        return type == CommandType.SCRIPT || type == CommandType.INFO ? setupNanos : decisionNanos;
      }

      @Override
      public TimeUnit getTimeUnit() {
        return TimeUnit.NANOSECONDS;
      }
    }).build();
  }

  /** Loads the script, closing the store if that fails. */
  private static RedisStore started(RedisStore store) {
    try {
      store.loadScript();
      return store;
    } catch (RuntimeException e) {
      store.closeConnection();
      throw e;
    }
  }

  /** Loads the scripts at startup so a broken deployment shows at once, not on the first request. */
  private void loadScript() {
    try {
      // Lettuce times the command out (setup timeout); the margin only guards against a lost one.
      long waitMillis = Math.max(options.timeout().toMillis(), CONNECT_TIMEOUT.toMillis()) + 1000;
      scripting.scriptLoad(script.source()).get(waitMillis, TimeUnit.MILLISECONDS);
      scripting.scriptLoad(abuse.source()).get(waitMillis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException(RedisMessages.failed("loading its scripts", e), e);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new StoreException(RedisMessages.failed("loading its scripts", cause), cause);
    }
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
    if (closed.get()) {
      return CompletableFuture.failedFuture(new StoreException("redis store is closed; cannot " + deciding(key)));
    }
    Consumption known = refusals.lookup(key, spec, cost);
    if (known != null) {
      return CompletableFuture.completedFuture(known);
    }
    CircuitBreaker.Permit permit = breaker.acquire();
    if (permit == CircuitBreaker.Permit.REJECT) {
      return CompletableFuture.failedFuture(
          new StoreException(RedisMessages.circuitOpen(breaker.cause(), breaker.nanosUntilProbe())));
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
      settle(result, permit, deciding(key), null, e);
      return;
    }
    sent.whenComplete((values, error) -> {
      if (error == null) {
        Consumption consumption;
        try {
          consumption = DecisionCommand.consumption(reply, prepared.limits());
        } catch (StoreException e) {
          settle(result, permit, null, null, e);
          return;
        }
        refusals.remember(key, prepared.spec(), sentAt, epoch, reply.get());
        settle(result, permit, null, consumption, null);
      } else if (!withSource && unwrap(error) instanceof RedisNoScriptException) {
        decide(key, prepared, true, permit, result, sentAt, epoch);
      } else {
        settle(result, permit, deciding(key), null, error);
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
    return call("PING", () -> base.ping().thenApply(pong -> (Void) null));
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
    return lowering(key, () -> call("refunding policy '" + key.policy() + "'",
        () -> evalAbuse(keys, args, "refund").thenApply(reply -> (Void) null)));
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
    return call("recording an offence", () -> evalAbuse(keys, args, "offence"));
  }

  /** {@inheritDoc} One script call deleting the bucket's keys (one slot: they share a hash tag). */
  @Override
  public CompletionStage<Void> forgetBucket(BucketKey key, BucketSpec spec) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(spec, "spec");
    String[] keys = RedisKeys.keys(key, spec);
    String[] args = abuse.forget(testTime);
    return lowering(key, () -> call("forgetting a bucket of policy '" + key.policy() + "'",
        () -> evalAbuse(keys, args, "forget").thenApply(n -> (Void) null)));
  }

  @Override
  public CompletionStage<Void> forgetOffences(String offenceKey) {
    Objects.requireNonNull(offenceKey, "offenceKey");
    String[] keys = {RedisKeys.offence(offenceKey)};
    String[] args = abuse.forget(testTime);
    return call("forgetting offences", () -> evalAbuse(keys, args, "forget").thenApply(n -> (Void) null));
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
    Objects.requireNonNull(ban, "ban");
    long share = banShare;
    String[] args = abuse.putBan(ban, share, testTime);
    return call("storing a ban", () -> evalAbuse(BAN_KEYS, args, "ban_put").thenApply(reply -> {
      if (reply == 0) {
        penaltiesRefused.increment();
        throw new PenaltyRefusedException(ban.issuer(), "penalty bans", share);
      }
      if (reply == -1) {
        throw new StoreException(RedisMessages.operatorBansFull(AbuseScript.MAX_BANS));
      }
      return (Void) null;
    }));
  }

  /** {@inheritDoc} Divides the penalty bans into one share per policy. */
  @Override
  public void usePolicies(Collection<String> policies) {
    banShare = Math.max(1, AbuseScript.MAX_BANS / Math.max(1, policies.size()));
  }

  @Override
  public long penaltiesRefused() {
    return penaltiesRefused.sum();
  }

  @Override
  public CompletionStage<Boolean> removeBan(String id) {
    Objects.requireNonNull(id, "id");
    String[] args = abuse.removeBan(id, testTime);
    return call("removing a ban", () -> evalAbuse(BAN_KEYS, args, "ban_remove").thenApply(n -> n == 1));
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
    AbuseScript.BanList copy = bans.get();
    String known = generation.get();
    String[] args = abuse.listBans(copy.version(), newGeneration(), testTime);
    return call("listing bans", () -> evalsha(abuse.sha(), abuse.source(), ScriptOutputType.MULTI,
        LIST_KEYS, args).thenApply(reply -> {
          AbuseScript.Listing listing = abuse.bans(reply, copy);
          noteGeneration(known, listing.generation());
          bans.set(listing.bans()); // concurrent lists may store an older one: the next call renews it
          return listing.bans().bans();
        }));
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
    return resets.get();
  }

  private void noteGeneration(String known, String current) {
    // Two lists racing saw the same `known`: only the one whose CAS wins counts the reset.
    if (generation.compareAndSet(known, current) && known != null && !known.equals(current)) {
      refusals.invalidateAll(); // the data set was erased: every bucket is full again
      resets.incrementAndGet();
    }
  }

  /** A generation no other instance will propose: random bits and this instant. */
  private static String newGeneration() {
    return Long.toHexString(ThreadLocalRandom.current().nextLong()) + "@" + System.currentTimeMillis();
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
    return call("acquiring a permit", () -> evalAbuse(keys, args, "permit_acquire").thenApply(n -> n == 1));
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
    return call("releasing a permit", () -> evalAbuse(keys, args, "permit_release").thenApply(n -> (Void) null));
  }

  /** The abuse script with an integer reply. */
  private CompletionStage<Long> evalAbuse(String[] keys, String[] args, String operation) {
    return evalsha(abuse.sha(), abuse.source(), ScriptOutputType.INTEGER, keys, args)
        .thenApply(reply -> abuse.integer(reply, operation));
  }

  private CompletionStage<Object> evalsha(String sha, String source, ScriptOutputType type,
      String[] keys, String[] args) {
    CompletionStage<Object> first = scripting.evalsha(sha, type, keys, args);
    return first.handle((reply, error) -> {
      if (error == null) {
        return CompletableFuture.completedStage(reply);
      }
      if (unwrap(error) instanceof RedisNoScriptException) {
        // SCRIPT FLUSH, a restart without persistence or a failover to a node that never saw the
        // script: EVAL sends the source once, which also caches it on that node for EVALSHA.
        return scripting.<Object>eval(source, type, keys, args);
      }
      return CompletableFuture.<Object>failedStage(error);
    }).thenCompose(stage -> stage);
  }

  private <T> CompletionStage<T> call(String what, java.util.function.Supplier<CompletionStage<T>> command) {
    if (closed.get()) {
      return CompletableFuture.failedFuture(new StoreException("redis store is closed; cannot " + what));
    }
    CircuitBreaker.Permit permit = breaker.acquire();
    if (permit == CircuitBreaker.Permit.REJECT) {
      return CompletableFuture.failedFuture(
          new StoreException(RedisMessages.circuitOpen(breaker.cause(), breaker.nanosUntilProbe())));
    }
    CompletionStage<T> stage;
    try {
      stage = command.get();
    } catch (RuntimeException e) { // Lettuce rejects synchronously in a few cases (queue full)
      stage = CompletableFuture.failedFuture(e);
    }
    CompletableFuture<T> result = new CompletableFuture<>();
    stage.whenComplete((value, error) -> settle(result, permit, what, value, error));
    return result;
  }

  /**
   * Completes a call's result and tells the breaker: a reply (even one our checks refuse) means
   * Redis answered; timeouts and lost connections open it; error replies of a healthy server are
   * reported per call.
   */
  private <T> void settle(CompletableFuture<T> result, CircuitBreaker.Permit permit, String what,
      T value, Throwable error) {
    if (error == null) {
      breaker.onSuccess();
      result.complete(value);
      return;
    }
    Throwable cause = unwrap(error);
    if (cause instanceof StoreException se) { // our own reply check: Redis answered
      breaker.onSuccess();
      result.completeExceptionally(se);
      return;
    }
    StoreException failure = cause instanceof RedisCommandTimeoutException
        ? new StoreException(RedisMessages.timedOut(options.timeout(), what), cause)
        : new StoreException(RedisMessages.failed(what, cause), cause);
    if (meansUnavailable(cause)) {
      breaker.onFailure(permit, RedisMessages.describe(failure));
    } else {
      breaker.onSuccess();
    }
    result.completeExceptionally(failure);
  }

  /**
   * Whether a failure means Redis cannot serve decisions right now (open the breaker), as opposed
   * to an error reply from a healthy server (a bug or bad data, reported per call).
   */
  private static boolean meansUnavailable(Throwable cause) {
    if (cause instanceof RedisBusyException) {
      return true;
    }
    if (cause instanceof RedisCommandExecutionException) {
      String message = String.valueOf(cause.getMessage());
      return message.startsWith("LOADING") || message.startsWith("MASTERDOWN")
          || message.startsWith("CLUSTERDOWN") || message.startsWith("TRYAGAIN")
          || message.startsWith("READONLY") || message.startsWith("OOM");
    }
    return true;
  }

  private static Throwable unwrap(Throwable error) {
    Throwable t = error;
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
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
  private void closeConnection() {
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
