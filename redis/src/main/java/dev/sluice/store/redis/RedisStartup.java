package dev.sluice.store.redis;

import dev.sluice.store.StoreException;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.protocol.ProtocolKeyword;
import io.lettuce.core.protocol.RedisCommand;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * How a {@link RedisStore} starts: Lettuce's client resources, socket and timeout options, the
 * standalone or cluster client (one URL may still name a cluster node), and the scripts loaded
 * before the store is handed out. Blocking; called once at startup by {@link RedisStore#connect}.
 */
final class RedisStartup {

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

  /** Lettuce's switch for its io_uring transport (see {@link #connect}). */
  private static final String LETTUCE_IO_URING = "io.lettuce.core.iouring";

  /** The least time allowed for connecting and the handshake (commands use the store timeout). */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

  private RedisStartup() {}

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
              connection.async(), connection.async(), testTime), connection.async(), options.timeout());
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
            connection.async(), connection.async(), testTime), connection.async(), options.timeout());
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
  private static RedisStore started(RedisStore store, RedisScriptingAsyncCommands<String, String> scripting,
      Duration timeout) {
    try {
      loadScript(scripting, timeout);
      return store;
    } catch (RuntimeException e) {
      store.closeConnection();
      throw e;
    }
  }

  /** Loads the scripts at startup so a broken deployment shows at once, not on the first request. */
  private static void loadScript(RedisScriptingAsyncCommands<String, String> scripting, Duration timeout) {
    try {
      // Lettuce times the command out (setup timeout); the margin only guards against a lost one.
      long waitMillis = Math.max(timeout.toMillis(), CONNECT_TIMEOUT.toMillis()) + 1000;
      scripting.scriptLoad(DecisionScript.INSTANCE.source()).get(waitMillis, TimeUnit.MILLISECONDS);
      scripting.scriptLoad(AbuseScript.INSTANCE.source()).get(waitMillis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException(RedisMessages.failed("loading its scripts", e), e);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new StoreException(RedisMessages.failed("loading its scripts", cause), cause);
    }
  }
}
