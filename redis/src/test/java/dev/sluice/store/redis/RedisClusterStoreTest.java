package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.Limit;
import dev.sluice.store.Ban;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The store on a local 3-master Redis Cluster: multi-key scripts stay in one slot, buckets spread. */
class RedisClusterStoreTest {

  private static LocalRedisCluster cluster;
  private static RedisStore store;

  @BeforeAll
  static void start() {
    cluster = LocalRedisCluster.start();
    store = RedisStore.connect(RedisStoreOptions.of(cluster.uris(), Duration.ofSeconds(2)));
  }

  @AfterAll
  static void stop() {
    if (store != null) {
      store.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private static final BucketSpec GCRA = new BucketSpec(Algorithm.GCRA,
      List.of(Limit.of(3, Duration.ofMinutes(1)), Limit.of(50, Duration.ofHours(1))));
  private static final BucketSpec WINDOW = new BucketSpec(Algorithm.SLIDING_WINDOW,
      List.of(Limit.of(2, Duration.ofMinutes(1)), Limit.of(20, Duration.ofHours(1))));

  @Test
  void manyIdentities_multiLimitDecisions_workOnEverySlotAndSpreadOverAllMasters() {
    List<CompletableFuture<Consumption>> gcra = new ArrayList<>();
    List<CompletableFuture<Consumption>> window = new ArrayList<>();
    for (int id = 0; id < 300; id++) {
      BucketKey key = new BucketKey("api", "ip:10.1." + id / 256 + "." + id % 256);
      for (int i = 0; i < 4; i++) {
        gcra.add(store.tryConsume(key, GCRA, 1).toCompletableFuture());
        window.add(store.tryConsume(new BucketKey("export", key.identity()), WINDOW, 1).toCompletableFuture());
      }
    }

    // Per identity: 3 of 4 admitted (gcra), 2 of 4 (window); any CROSSSLOT would fail the join.
    long gcraAdmitted = gcra.stream().map(f -> f.orTimeout(10, TimeUnit.SECONDS).join()).filter(Consumption::allowed).count();
    long windowAdmitted = window.stream().map(f -> f.orTimeout(10, TimeUnit.SECONDS).join()).filter(Consumption::allowed).count();
    assertThat(gcraAdmitted).isEqualTo(300 * 3);
    assertThat(windowAdmitted).isEqualTo(300 * 2);
    // 1,200 keys (600 buckets x 2 limits) over 3 masters by hash tag: each holds about 400.
    for (int port : cluster.ports()) {
      long keys = Long.parseLong(cluster.cli(port, "DBSIZE").trim());
      assertThat(keys).as("keys on master %d", port).isGreaterThan(200);
    }
  }

  @Test
  void abuseOperations_manyKeys_workOnEveryMasterWithoutCrossSlot() {
    List<CompletableFuture<?>> calls = new ArrayList<>();
    List<Ban> bans = new ArrayList<>();
    long minute = Duration.ofMinutes(1).toNanos();
    for (int id = 0; id < 90; id++) {
      BucketKey key = new BucketKey("abuse", "ip:10.3.0." + id);
      calls.add(store.tryConsume(key, GCRA, 2).toCompletableFuture());
      calls.add(store.refund(key, GCRA, 1).toCompletableFuture());
      calls.add(store.tryConsume(new BucketKey("abuse-w", key.identity()), WINDOW, 2).toCompletableFuture());
      calls.add(store.refund(new BucketKey("abuse-w", key.identity()), WINDOW, 1).toCompletableFuture());
      calls.add(store.recordOffence("abuse:" + key.identity(), minute).toCompletableFuture());
      calls.add(store.acquirePermit("abuse:" + key.identity(), 2, minute).toCompletableFuture());
      Ban ban = Ban.of("abuse", key.identity(), System.currentTimeMillis() + 600_000, "cluster test");
      bans.add(ban);
      calls.add(store.putBan(ban).toCompletableFuture());
    }
    // Any CROSSSLOT (or other error) fails its join.
    calls.forEach(f -> f.orTimeout(10, TimeUnit.SECONDS).join());

    RedisStoreOptions oneSeed = RedisStoreOptions.of(cluster.uris().subList(2, 3), Duration.ofSeconds(2));
    try (RedisStore otherInstance = RedisStore.connect(oneSeed)) {
      assertThat(otherInstance.listBans().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join())
          .containsAll(bans);
      assertThat(otherInstance.removeBan(bans.get(0).id()).toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join())
          .isTrue();
    }
    assertThat(store.listBans().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join())
        .doesNotContain(bans.get(0)).hasSizeGreaterThanOrEqualTo(89);
    // Offence and permit keys spread by their own hash tags; the two ban keys share one slot.
    int mastersWithBans = 0;
    for (int port : cluster.ports()) {
      String keys = cluster.cli(port, "KEYS", "sluice:v1:*");
      assertThat(keys).as("master %d", port).contains("sluice:v1:offence:{").contains("sluice:v1:permit:{");
      if (keys.contains("sluice:v1:{bans}")) {
        assertThat(keys).contains("sluice:v1:{bans}:expiry");
        mastersWithBans++;
      }
    }
    assertThat(mastersWithBans).isEqualTo(1);
  }

  @Test
  void connect_singleUrlOfAClusterNode_detectsTheClusterAndFollowsSlots() {
    RedisStoreOptions oneSeed = RedisStoreOptions.of(cluster.uris().subList(1, 2), Duration.ofSeconds(2));
    try (RedisStore viaOneNode = RedisStore.connect(oneSeed)) {
      for (int id = 0; id < 100; id++) {
        // Identities land on every master; a standalone client would get MOVED for two thirds.
        Consumption c = viaOneNode.tryConsume(new BucketKey("one-seed", "ip:10.9.0." + id), GCRA, 1)
            .toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();
        assertThat(c.allowed()).as("identity %d", id).isTrue();
      }
    }
  }

  @Test
  void manualFailover_decisionsFollowTheNewMaster() {
    try (LocalRedisCluster replicated = LocalRedisCluster.start(1);
        RedisStore failoverStore = RedisStore.connect(RedisStoreOptions.of(replicated.uris(), Duration.ofSeconds(2)))) {
      List<BucketKey> keys = new ArrayList<>();
      for (int id = 0; id < 60; id++) {
        keys.add(new BucketKey("fo", "ip:10.7.0." + id));
      }
      for (BucketKey key : keys) {
        assertThat(failoverStore.tryConsume(key, GCRA, 1).toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join().allowed()).isTrue();
      }
      int[] replicaAndMaster = replicated.someReplicaAndItsMaster();
      // Let the replica catch up, then promote it (no data loss, like a planned maintenance).
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
          .until(() -> replicated.cli(replicaAndMaster[0], "INFO", "replication").contains("master_link_status:up"));
      assertThat(replicated.cli(replicaAndMaster[0], "CLUSTER", "FAILOVER").trim()).isEqualTo("OK");
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
          .until(() -> replicated.cli(replicaAndMaster[0], "INFO", "replication").contains("role:master"));

      // Every bucket still decides (MOVED triggers a topology refresh), and from its old state:
      // the second of 3/minute leaves exactly 1 token, so nothing was lost or reset.
      for (BucketKey key : keys) {
        Consumption c = org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
            .pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
            .until(() -> failoverStore.tryConsume(key, GCRA, 1).toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join(),
                x -> true);
        assertThat(c.allowed()).as("%s", key).isTrue();
        assertThat(c.limits().get(0).remaining()).as("%s", key).isEqualTo(1);
      }
    }
  }

  @Test
  void scriptFlushedOnEveryNode_decisionsReloadTheScript() {
    BucketKey key = new BucketKey("flush", "user:7");
    assertThat(store.tryConsume(key, GCRA, 1).toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join().allowed()).isTrue();
    for (int port : cluster.ports()) {
      assertThat(cluster.cli(port, "SCRIPT", "FLUSH").trim()).isEqualTo("OK");
    }

    Consumption after = store.tryConsume(key, GCRA, 1).toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();

    assertThat(after.allowed()).isTrue();
    assertThat(after.limits().get(0).remaining()).isEqualTo(1);
  }
}
