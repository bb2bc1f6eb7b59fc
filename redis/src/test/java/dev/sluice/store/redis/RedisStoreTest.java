package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.Limit;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.LimitStatus;
import dev.sluice.store.StoreException;
import dev.sluice.testkit.FreePort;
import dev.sluice.testkit.RedisServer;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Decisions, keys, TTLs, script reloading and connection errors against a real redis-server. */
class RedisStoreTest {

  private static RedisServer redis;
  private static RedisStore store;

  @BeforeAll
  static void startRedis() {
    redis = RedisServer.start();
    store = RedisStore.connect(RedisStoreOptions.of(List.of(redis.uri()), Duration.ofSeconds(2)));
  }

  @AfterAll
  static void stopRedis() {
    if (store != null) {
      store.close();
    }
    if (redis != null) {
      redis.stop();
    }
  }

  @BeforeEach
  void flush() {
    redis.flushAll();
  }

  static Consumption decide(RedisStore store, BucketKey key, BucketSpec spec, long cost) {
    return store.tryConsume(key, spec, cost).toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join();
  }

  @Test
  void tryConsume_freshGcraBucket_admitsBurstThenDeniesWithRetryAfter() {
    BucketKey key = new BucketKey("login", "ip:203.0.113.7");
    BucketSpec spec = new BucketSpec(Algorithm.GCRA, List.of(Limit.of(3, Duration.ofHours(1))));

    for (int i = 0; i < 3; i++) {
      Consumption c = decide(store, key, spec, 1);
      assertThat(c.allowed()).as("request %d", i).isTrue();
      assertThat(c.limits().get(0).remaining()).isEqualTo(2 - i);
    }
    Consumption denied = decide(store, key, spec, 1);

    assertThat(denied.allowed()).isFalse();
    assertThat(denied.deniedLimit()).isZero();
    // 3 tokens used of 3/hour: the next one comes 20 minutes after the first, minus elapsed time.
    assertThat(denied.retryAfterNanos()).isBetween(Duration.ofMinutes(20).minusSeconds(5).toNanos(),
        Duration.ofMinutes(20).toNanos());
    LimitStatus status = denied.limits().get(0);
    assertThat(status.remaining()).isZero();
    assertThat(status.nanosToNextToken()).isEqualTo(denied.retryAfterNanos());
    assertThat(status.nanosToFull()).isBetween(Duration.ofHours(1).minusSeconds(5).toNanos(),
        Duration.ofHours(1).toNanos());
  }

  @Test
  void tryConsume_twoLimits_consumesFromNoneWhenOneDenies() {
    BucketKey key = new BucketKey("search", "api_key:abc");
    BucketSpec spec = new BucketSpec(Algorithm.GCRA,
        List.of(Limit.of(2, Duration.ofMinutes(1)), Limit.of(100, Duration.ofHours(1))));

    decide(store, key, spec, 1);
    decide(store, key, spec, 1);
    Consumption denied = decide(store, key, spec, 1);

    assertThat(denied.allowed()).isFalse();
    assertThat(denied.deniedLimit()).isZero();
    assertThat(denied.limits().get(1).remaining()).as("the hourly limit was not charged").isEqualTo(98);
  }

  @Test
  void tryConsume_slidingWindow_admitsQuantityThenDenies() {
    BucketKey key = new BucketKey("export", "user:42");
    BucketSpec spec = new BucketSpec(Algorithm.SLIDING_WINDOW, List.of(Limit.of(5, Duration.ofMinutes(1))));

    Consumption first = decide(store, key, spec, 2);
    Consumption second = decide(store, key, spec, 3);
    Consumption third = decide(store, key, spec, 1);

    assertThat(first.allowed()).isTrue();
    assertThat(first.limits().get(0).remaining()).isEqualTo(3);
    assertThat(second.allowed()).isTrue();
    assertThat(second.limits().get(0).remaining()).isZero();
    assertThat(third.allowed()).isFalse();
    assertThat(third.retryAfterNanos()).isBetween(Duration.ofSeconds(55).toNanos(), Duration.ofMinutes(1).toNanos());
    assertThat(redis.call("LLEN", RedisKeys.keys(key, spec)[0])).isEqualTo("5");
  }

  @Test
  void tryConsume_afterScriptFlush_reloadsScriptAndDecides() {
    BucketKey key = new BucketKey("p", "ip:1.2.3.4");
    BucketSpec spec = new BucketSpec(Algorithm.GCRA, List.of(Limit.of(10, Duration.ofMinutes(1))));
    decide(store, key, spec, 1);

    redis.call("SCRIPT", "FLUSH");
    Consumption after = decide(store, key, spec, 1);

    assertThat(after.allowed()).isTrue();
    assertThat(after.limits().get(0).remaining()).isEqualTo(8);
    assertThat(redis.call("SCRIPT", "EXISTS", DecisionScript.INSTANCE.sha())).isEqualTo("1");
  }

  @Test
  void tryConsume_writesKeysWithHashTagAndTtlOfTimeToFull() {
    BucketKey key = new BucketKey("login", "ip:10.0.0.1");
    BucketSpec spec = new BucketSpec(Algorithm.GCRA,
        List.of(Limit.of(5, Duration.ofMinutes(1)), Limit.of(20, Duration.ofHours(1))));

    decide(store, key, spec, 1);

    String[] keys = RedisKeys.keys(key, spec);
    assertThat(keys[0]).isEqualTo("sluice:v1:{login:ip:10.0.0.1}:gcra:5/60000000000/5");
    // One token of 5/minute refills in 12 s; of 20/hour in 180 s: the TTLs say exactly that.
    assertThat(Long.parseLong(redis.call("PTTL", keys[0]))).isBetween(11_000L, 12_000L);
    assertThat(Long.parseLong(redis.call("PTTL", keys[1]))).isBetween(179_000L, 180_000L);
  }

  @Test
  void manyDecisions_everyKeyHasATtl_andKeysVanishOnceTheirBucketsRefill() {
    List<BucketSpec> specs = List.of(
        new BucketSpec(Algorithm.GCRA, List.of(Limit.of(5, Duration.ofMillis(500)))),
        new BucketSpec(Algorithm.GCRA, List.of(Limit.of(2, Duration.ofMillis(200)), Limit.of(10, Duration.ofSeconds(1)))),
        new BucketSpec(Algorithm.SLIDING_WINDOW, List.of(Limit.of(3, Duration.ofMillis(500)))),
        new BucketSpec(Algorithm.SLIDING_WINDOW, List.of(Limit.of(2, Duration.ofMillis(300)), Limit.of(6, Duration.ofSeconds(1)))));
    java.util.Random random = new java.util.Random(7);
    for (int i = 0; i < 400; i++) {
      int which = random.nextInt(specs.size());
      decide(store, new BucketKey("p" + which, "ip:10.0.0." + random.nextInt(20)), specs.get(which), 1);
    }

    String[] keys = redis.call("KEYS", "*").split("\n");
    assertThat(keys.length).isGreaterThan(20);
    for (String key : keys) {
      assertThat(key).startsWith("sluice:v1:{p");
      // -1 would be a key without TTL (never to expire); -2 one that expired meanwhile.
      assertThat(Long.parseLong(redis.call("PTTL", key))).as("PTTL of %s", key).isNotEqualTo(-1L);
    }
    long lastWrite = System.nanoTime();
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50))
        .until(() -> redis.dbSize() == 0);
    // The longest time to full above is 1 s (+ Redis's ~100 ms expiry cycle granularity).
    assertThat(Duration.ofNanos(System.nanoTime() - lastWrite)).isLessThan(Duration.ofMillis(2500));
  }

  @Test
  void tryConsume_limitBeyondExactLuaRange_failsWithStoreExceptionNamingIt() {
    Limit huge = new Limit(1000, Duration.ofDays(365).toNanos(), 1000, "1000/365 days");
    BucketSpec spec = new BucketSpec(Algorithm.GCRA, List.of(huge));

    assertThatThrownBy(() -> store.tryConsume(new BucketKey("p", "ip:1.1.1.1"), spec, 1).toCompletableFuture().join())
        .hasCauseInstanceOf(StoreException.class)
        .hasRootCauseMessage("limit '1000/365 days' needs the redis store to track 31536000000000000ns ahead,"
            + " more than the 9007199254740992ns (2^53, ~104 days) a Lua number holds exactly;"
            + " lower its burst or its period");
  }

  @Test
  void tryConsume_costAboveBurst_isRejectedLikeTheMemoryStore() {
    BucketSpec spec = new BucketSpec(Algorithm.GCRA, List.of(Limit.of(3, Duration.ofMinutes(1))));

    assertThatThrownBy(() -> store.tryConsume(new BucketKey("p", "ip:1.1.1.1"), spec, 4))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cost must be between 1 and the capacity of limit \"3/minute\" (3), got 4");
  }

  @Test
  void ping_liveServer_completesNormally() {
    assertThat(store.ping().toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join()).isNull();
    assertThat(store.circuitOpen()).isFalse();
  }

  @Test
  void connect_nothingListening_failsWithStoreExceptionNamingTheUrl() {
    URI url = URI.create("redis://127.0.0.1:" + FreePort.find());

    assertThatThrownBy(() -> RedisStore.connect(RedisStoreOptions.of(List.of(url), Duration.ofMillis(200))))
        .isInstanceOf(StoreException.class)
        .hasMessageStartingWith("cannot connect to the redis store at " + url + ": ");
  }

  @Test
  void connect_passwordInUrl_authenticatesAndWrongOneFailsWithoutShowingIt() {
    try (RedisServer secured = RedisServer.start()) {
      secured.call("CONFIG", "SET", "requirepass", "s3cret");
      URI wrong = URI.create("redis://default:hunter2@127.0.0.1:" + secured.port());
      URI right = URI.create("redis://default:s3cret@127.0.0.1:" + secured.port());

      assertThatThrownBy(() -> RedisStore.connect(RedisStoreOptions.of(List.of(wrong), Duration.ofMillis(500))))
          .isInstanceOf(StoreException.class)
          .hasMessageStartingWith("cannot connect to the redis store at redis://default:***@127.0.0.1:" + secured.port())
          .hasMessageNotContaining("hunter2");
      try (RedisStore authenticated = RedisStore.connect(RedisStoreOptions.of(List.of(right), Duration.ofSeconds(1)))) {
        assertThat(authenticated.ping().toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join()).isNull();
      }
    }
  }

  @Test
  void connect_leastPrivilegeAclUser_decidesWithoutInfoOrOtherKeys() {
    try (RedisServer secured = RedisServer.start()) {
      // The ACL docs/distributed.md recommends; INFO (cluster detection) is deliberately denied.
      secured.call("ACL", "SETUSER", "sluice", "on", ">gate-pw", "~sluice:*", "resetchannels",
          "-@all", "+hello", "+auth", "+ping", "+evalsha", "+eval", "+script|load",
          "+time", "+get", "+set", "+lindex", "+lpop", "+llen", "+rpush", "+ltrim", "+pexpire",
          "+del", "+zadd", "+zcard", "+zrange", "+zrangebyscore", "+zremrangebyscore", "+zrem",
          "+zscore", "+zpopmin", "+hset", "+hdel", "+hvals", "+hget", "+hmget", "+hincrby");
      URI url = URI.create("redis://sluice:gate-pw@127.0.0.1:" + secured.port());

      try (RedisStore limited = RedisStore.connect(RedisStoreOptions.of(List.of(url), Duration.ofSeconds(1)))) {
        BucketSpec gcra = new BucketSpec(Algorithm.GCRA, List.of(Limit.of(2, Duration.ofMinutes(1))));
        BucketSpec window = new BucketSpec(Algorithm.SLIDING_WINDOW, List.of(Limit.of(2, Duration.ofMinutes(1))));
        assertThat(decide(limited, new BucketKey("p", "ip:1.2.3.4"), gcra, 2).allowed()).isTrue();
        assertThat(decide(limited, new BucketKey("p", "ip:1.2.3.4"), gcra, 1).allowed()).isFalse();
        assertThat(decide(limited, new BucketKey("w", "ip:1.2.3.4"), window, 2).allowed()).isTrue();
        assertThat(decide(limited, new BucketKey("w", "ip:1.2.3.4"), window, 1).allowed()).isFalse();
        // Abuse control (SPEC §7) with the same user: every script operation.
        limited.refund(new BucketKey("p", "ip:1.2.3.4"), gcra, 1).toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join();
        limited.refund(new BucketKey("w", "ip:1.2.3.4"), window, 1).toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join();
        assertThat(decide(limited, new BucketKey("p", "ip:1.2.3.4"), gcra, 1).allowed()).isTrue();
        assertThat(decide(limited, new BucketKey("w", "ip:1.2.3.4"), window, 1).allowed()).isTrue();
        assertThat(limited.recordOffence("p:ip:1.2.3.4", 60_000_000_000L).toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join()).isEqualTo(1);
        assertThat(limited.acquirePermit("p:ip:1.2.3.4", 1, 60_000_000_000L).toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join()).isTrue();
        limited.releasePermit("p:ip:1.2.3.4").toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join();
        dev.sluice.store.Ban ban = dev.sluice.store.Ban.of("p", "ip:1.2.3.4", System.currentTimeMillis() + 60_000, "acl");
        limited.putBan(ban).toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join();
        assertThat(limited.listBans().toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join()).containsExactly(ban);
        assertThat(limited.removeBan(ban.id()).toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join()).isTrue();
      }
    }
  }

  @Test
  void tryConsume_closedStore_failsWithStoreException() {
    RedisStore closing = RedisStore.connect(RedisStoreOptions.of(List.of(redis.uri()), Duration.ofSeconds(1)));
    closing.close();
    closing.close();

    assertThatThrownBy(() -> closing.ping().toCompletableFuture().join())
        .isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(StoreException.class)
        .hasRootCauseMessage("redis store is closed; cannot PING");
  }
}
