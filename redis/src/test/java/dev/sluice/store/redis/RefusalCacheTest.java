package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.Limit;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.MemoryStore;
import dev.sluice.testkit.RedisServer;
import dev.sluice.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The local refusal hints ({@link RefusalCache}): answers equal to the memory store's to the
 * nanosecond while they take Redis out of a flood, and correct across gateways sharing a key.
 */
class RefusalCacheTest {

  private static RedisServer redis;

  @BeforeAll
  static void startRedis() {
    redis = RedisServer.start();
  }

  @AfterAll
  static void stopRedis() {
    if (redis != null) {
      redis.stop();
    }
  }

  @BeforeEach
  void flush() {
    redis.flushAll();
    redis.call("CONFIG", "RESETSTAT");
  }

  private static final class SteppedClock implements Clock {
    private volatile long now;

    @Override
    public long nanoTime() {
      return now;
    }
  }

  private static final BucketSpec ONE = new BucketSpec(Algorithm.GCRA, List.of(Limit.of(5, Duration.ofSeconds(1))));
  private static final BucketSpec TWO = new BucketSpec(Algorithm.GCRA, List.of(
      new Limit(10, Duration.ofSeconds(1).toNanos(), 4, "10/second burst 4"),
      Limit.of(30, Duration.ofSeconds(10))));
  private static final BucketSpec WINDOW = new BucketSpec(Algorithm.SLIDING_WINDOW, List.of(Limit.of(3, Duration.ofSeconds(1))));

  /** EVALSHA and EVAL calls the server ran since the last CONFIG RESETSTAT (decisions that reached it). */
  private static long scriptCalls() {
    String stats = redis.call("INFO", "commandstats");
    long calls = 0;
    Matcher m = Pattern.compile("cmdstat_(evalsha|eval):calls=(\\d+)").matcher(stats);
    while (m.find()) {
      calls += Long.parseLong(m.group(2));
    }
    return calls;
  }

  /**
   * A flood on hot keys with mixed costs and short steps, on a clock shared with the memory store:
   * every answer equal to the nanosecond, and most refusals never reach Redis.
   */
  @Test
  void flood_sharedClock_equalToMemoryStore_andMostRefusalsAnsweredLocally() {
    for (long seed = 1; seed <= 3; seed++) {
      redis.flushAll();
      redis.call("CONFIG", "RESETSTAT");
      Random random = new Random(seed);
      SteppedClock clock = new SteppedClock();
      long offset = 1_000_000_000_000L - System.nanoTime();
      clock.now = System.nanoTime() + offset;
      MemoryStore memory = new MemoryStore(clock, 1000);
      RedisStore store = RedisStore.connect(RedisStoreOptions.of(List.of(redis.uri()), Duration.ofSeconds(2)),
          new DecisionScript.TestTime(clock, false));
      try {
        int refused = 0;
        int decisions = 0;
        for (int step = 0; step < 600; step++) {
          BucketSpec spec = random.nextInt(3) == 0 ? TWO : ONE;
          BucketKey key = new BucketKey(spec == ONE ? "one" : "two", "ip:" + random.nextInt(2));
          long cost = 1 + random.nextInt(spec == ONE ? 5 : 4);
          offset += random.nextInt(10) == 0 ? random.nextInt(300_000_000) : random.nextInt(3_000_000);
          clock.now = Math.max(clock.now, System.nanoTime() + offset);
          Consumption expected = memory.tryConsume(key, spec, cost).toCompletableFuture().join();
          Consumption actual = store.tryConsume(key, spec, cost).toCompletableFuture()
              .orTimeout(5, TimeUnit.SECONDS).join();
          assertThat(actual).as("seed %d step %d: %s cost %d", seed, step, key, cost).isEqualTo(expected);
          refused += expected.allowed() ? 0 : 1;
          decisions++;
        }
        assertThat(refused).as("the flood must be mostly refused").isGreaterThan(decisions / 2);
        long reached = scriptCalls();
        assertThat(decisions - reached).as("refusals answered without Redis (of %d refused)", refused)
            .isGreaterThan(refused / 2);
      } finally {
        store.close();
      }
    }
  }

  /** Sliding-window buckets are never answered locally: every decision reaches Redis. */
  @Test
  void slidingWindow_everyDecisionReachesRedis() {
    try (RedisStore store = RedisStore.connect(RedisStoreOptions.of(List.of(redis.uri()), Duration.ofSeconds(2)))) {
      BucketKey key = new BucketKey("window", "ip:1");
      int refused = 0;
      for (int i = 0; i < 20; i++) {
        refused += store.tryConsume(key, WINDOW, 1).toCompletableFuture().join().allowed() ? 0 : 1;
      }
      assertThat(refused).isEqualTo(17);
      assertThat(scriptCalls()).isEqualTo(20);
    }
  }

  /**
   * Two gateways on one key (production path, server TIME; 1 per minute, so time does not matter
   * within the test): another gateway's consumption keeps a cached refusal right; a refund on the
   * same store is seen at once; one on the other store within the hint's lifetime.
   */
  @Test
  void twoStores_sharedKey_hintsStayCorrect() {
    BucketSpec slow = new BucketSpec(Algorithm.GCRA, List.of(new Limit(1, Duration.ofMinutes(1).toNanos(), 2, "1/minute burst 2")));
    BucketKey key = new BucketKey("shared", "ip:9");
    RedisStoreOptions options = RedisStoreOptions.of(List.of(redis.uri()), Duration.ofSeconds(2));
    try (RedisStore a = RedisStore.connect(options); RedisStore b = RedisStore.connect(options)) {
      assertThat(decide(a, key, slow, 2).allowed()).isTrue();
      Consumption first = decide(a, key, slow, 1);
      assertThat(first.allowed()).isFalse();
      // A hint lives 100 ms: on a loaded host the next call may come later, so try a few times.
      boolean local = false;
      for (int attempt = 0; attempt < 20 && !local; attempt++) {
        long calls = scriptCalls();
        Consumption again = decide(a, key, slow, 1);
        assertThat(again.allowed()).isFalse();
        assertThat(again.deniedLimit()).isEqualTo(0);
        assertThat(again.limit(0).remaining()).isZero();
        assertThat(again.retryAfterNanos()).isPositive().isLessThanOrEqualTo(first.retryAfterNanos());
        local = scriptCalls() == calls;
      }
      assertThat(local).as("a refusal answered without Redis").isTrue();

      // B refunds one token: A may keep refusing for at most the hint's lifetime, then admits.
      b.refund(key, slow, 1).toCompletableFuture().join();
      Awaitility.await().atMost(Duration.ofSeconds(5))
          .until(() -> decide(a, key, slow, 1).allowed());
      // A refuses again (bucket empty); a refund through A itself is seen at once.
      assertThat(decide(a, key, slow, 1).allowed()).isFalse();
      assertThat(decide(a, key, slow, 1).allowed()).isFalse();
      a.refund(key, slow, 1).toCompletableFuture().join();
      assertThat(decide(a, key, slow, 1).allowed()).isTrue();
      // A forgotten bucket (a lifted ban) through A: full at once.
      assertThat(decide(a, key, slow, 1).allowed()).isFalse();
      a.forgetBucket(key, slow).toCompletableFuture().join();
      assertThat(decide(a, key, slow, 2).allowed()).isTrue();
    }
  }

  /** A reload's new spec (another instance) never uses a hint of the old one. */
  @Test
  void newSpec_ignoresOldHints() {
    BucketSpec strict = new BucketSpec(Algorithm.GCRA, List.of(Limit.of(1, Duration.ofMinutes(1))));
    BucketSpec loose = new BucketSpec(Algorithm.GCRA, List.of(Limit.of(1000, Duration.ofMinutes(1))));
    BucketKey key = new BucketKey("reloaded", "ip:1");
    try (RedisStore store = RedisStore.connect(RedisStoreOptions.of(List.of(redis.uri()), Duration.ofSeconds(2)))) {
      assertThat(decide(store, key, strict, 1).allowed()).isTrue();
      assertThat(decide(store, key, strict, 1).allowed()).isFalse();
      assertThat(decide(store, key, loose, 1).allowed()).isTrue();
    }
  }

  private static Consumption decide(RedisStore store, BucketKey key, BucketSpec spec, long cost) {
    return store.tryConsume(key, spec, cost).toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join();
  }
}
