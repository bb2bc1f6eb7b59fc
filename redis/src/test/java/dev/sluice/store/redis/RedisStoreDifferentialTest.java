package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.Limit;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.LimitStatus;
import dev.sluice.store.MemoryStore;
import dev.sluice.testkit.RedisServer;
import dev.sluice.time.Clock;
import dev.sluice.time.ManualClock;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The memory store and the Redis script must decide identically (SPEC §3, STYLE "one contract").
 *
 * <p>Two comparisons, because Redis's {@code TIME} cannot be frozen:
 *
 * <ol>
 *   <li><b>Exact, on a shared clock</b>: the script's test seam replaces {@code TIME} by a reading
 *       the test also gives the memory store, so whole {@link Consumption} records (allowed, limit,
 *       retry-after and every status to the nanosecond) must be equal. The shared clock is real
 *       time plus an offset the schedule jumps forward: it never runs slower than the real time
 *       Redis uses for key expiry, so a key only ever expires once the shared clock says its bucket
 *       is full — expiry is exercised, not dodged. This checks the script's arithmetic.
 *   <li><b>Production path, server {@code TIME}</b>: the memory store at a frozen {@link
 *       ManualClock}, Redis on its own clock, limits whose emission interval (minutes) dwarfs the
 *       test's duration (~1 s, measured). Then allowed, denied limit and remaining must be equal,
 *       and every nanosecond field may differ by at most the elapsed real time.
 * </ol>
 */
class RedisStoreDifferentialTest {

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
  }

  /** A clock set explicitly before each step, read by both stores. */
  private static final class SteppedClock implements Clock {
    private volatile long now;

    @Override
    public long nanoTime() {
      return now;
    }
  }

  private static final List<BucketSpec> SPECS = List.of(
      new BucketSpec(Algorithm.GCRA, List.of(Limit.of(7, Duration.ofSeconds(1)))), // T rounded up
      new BucketSpec(Algorithm.GCRA, List.of(
          new Limit(10, Duration.ofSeconds(2).toNanos(), 20, "10/2 seconds burst 20"),
          Limit.of(30, Duration.ofSeconds(10)))),
      new BucketSpec(Algorithm.GCRA, List.of(Limit.of(3, Duration.ofMillis(300)), Limit.of(13, Duration.ofSeconds(3)))),
      new BucketSpec(Algorithm.SLIDING_WINDOW, List.of(Limit.of(5, Duration.ofSeconds(1)))),
      new BucketSpec(Algorithm.SLIDING_WINDOW, List.of(Limit.of(3, Duration.ofMillis(400)), Limit.of(9, Duration.ofSeconds(3)))));

  private static final List<String> POLICIES = List.of("login", "we{ir}d:po%licy");
  private static final List<String> IDENTITIES = List.of("ip:203.0.113.7", "api_key:3f2a", "header:X-Team:a}b{c");

  @Test
  void randomSchedules_sharedClock_memoryAndRedisDecideIdentically() {
    for (long seed = 1; seed <= 4; seed++) {
      redis.flushAll();
      Random random = new Random(seed);
      SteppedClock clock = new SteppedClock();
      long offset = 1_000_000_000_000L - System.nanoTime(); // keep readings positive
      clock.now = System.nanoTime() + offset;
      MemoryStore memory = new MemoryStore(clock, 1000);
      RedisStore redisStore = RedisStore.connect(
          RedisStoreOptions.of(List.of(redis.uri()), Duration.ofSeconds(2)),
          new DecisionScript.TestTime(clock, false));
      try {
        int admitted = 0;
        for (int step = 0; step < 250; step++) {
          int which = random.nextInt(SPECS.size());
          BucketSpec spec = SPECS.get(which);
          // Policy names stand for policies, so one spec per policy name: pair them by spec index.
          BucketKey key = new BucketKey(POLICIES.get(which % POLICIES.size()) + which,
              IDENTITIES.get(random.nextInt(IDENTITIES.size())));
          long cost = 1 + random.nextInt((int) Math.min(3, capacity(spec)));
          int kind = random.nextInt(10);
          if (kind < 4) {
            offset += random.nextInt(1_000_000); // under a millisecond
          } else if (kind < 7) {
            offset += (long) (random.nextDouble() * Duration.ofMillis(100).toNanos());
          } else if (kind == 7) {
            offset += Duration.ofSeconds(1 + random.nextInt(4)).toNanos();
          }
          clock.now = Math.max(clock.now, System.nanoTime() + offset);

          Consumption expected = memory.tryConsume(key, spec, cost).toCompletableFuture().join();
          Consumption actual = redisStore.tryConsume(key, spec, cost).toCompletableFuture()
              .orTimeout(5, TimeUnit.SECONDS).join();

          assertThat(actual).as("seed %d step %d: %s %s cost %d", seed, step, key, spec, cost)
              .isEqualTo(expected);
          admitted += expected.allowed() ? 1 : 0;
        }
        assertThat(admitted).as("seed %d: the schedule must exercise both outcomes", seed)
            .isBetween(25, 225);
      } finally {
        redisStore.close();
      }
    }
  }

  /**
   * Refunds (SPEC §7 {@code count:}) and offence counts on the shared clock: every refund the
   * engine could issue — right after its admission, after later admissions of the same bucket,
   * after time passed, of a bucket that expired or never existed — must leave Redis in the state
   * the memory store reaches, so every later decision is equal to the nanosecond.
   */
  @Test
  void randomSchedulesWithRefunds_sharedClock_memoryAndRedisDecideIdentically() {
    record Admitted(BucketKey key, BucketSpec spec, long cost) {}
    for (long seed = 11; seed <= 13; seed++) {
      redis.flushAll();
      Random random = new Random(seed);
      SteppedClock clock = new SteppedClock();
      long offset = 1_000_000_000_000L - System.nanoTime();
      clock.now = System.nanoTime() + offset;
      MemoryStore memory = new MemoryStore(clock, 1000);
      RedisStore redisStore = RedisStore.connect(
          RedisStoreOptions.of(List.of(redis.uri()), Duration.ofSeconds(2)),
          new DecisionScript.TestTime(clock, false));
      try {
        List<Admitted> admitted = new java.util.ArrayList<>();
        int refunds = 0;
        for (int step = 0; step < 250; step++) {
          int which = random.nextInt(SPECS.size());
          BucketSpec spec = SPECS.get(which);
          // Few buckets and short steps, so refunds meet live state with entries of distinct ages.
          BucketKey key = new BucketKey(POLICIES.get(which % POLICIES.size()) + which,
              IDENTITIES.get(random.nextInt(2)));
          long cost = 1 + random.nextInt((int) Math.min(3, capacity(spec)));
          int kind = random.nextInt(10);
          if (kind < 5) {
            offset += random.nextInt(1_000_000);
          } else if (kind < 9) {
            offset += (long) (random.nextDouble() * Duration.ofMillis(40).toNanos());
          } else {
            offset += (long) (random.nextDouble() * Duration.ofMillis(800).toNanos());
          }
          clock.now = Math.max(clock.now, System.nanoTime() + offset);
          String context = "seed " + seed + " step " + step;

          int action = random.nextInt(10);
          if (action < 3 && !admitted.isEmpty()) {
            // Mostly the latest admissions (the engine refunds soon), sometimes an old one.
            int index = random.nextInt(4) == 0 ? random.nextInt(admitted.size())
                : Math.max(0, admitted.size() - 1 - random.nextInt(3));
            Admitted undo = admitted.remove(index);
            memory.refund(undo.key(), undo.spec(), undo.cost()).toCompletableFuture().join();
            redisStore.refund(undo.key(), undo.spec(), undo.cost()).toCompletableFuture()
                .orTimeout(5, TimeUnit.SECONDS).join();
            refunds++;
          } else if (action == 3) {
            // A refund of a bucket that may never have admitted anything.
            memory.refund(key, spec, cost).toCompletableFuture().join();
            redisStore.refund(key, spec, cost).toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join();
          } else if (action == 4) {
            String offenceKey = key.policy() + ":" + key.identity();
            long window = Duration.ofMillis(50 + random.nextInt(3000)).toNanos();
            Long expected = memory.recordOffence(offenceKey, window).toCompletableFuture().join();
            Long actual = redisStore.recordOffence(offenceKey, window).toCompletableFuture()
                .orTimeout(5, TimeUnit.SECONDS).join();
            assertThat(actual).as(context + ": offences of " + offenceKey).isEqualTo(expected);
          } else {
            Consumption expected = memory.tryConsume(key, spec, cost).toCompletableFuture().join();
            Consumption actual = redisStore.tryConsume(key, spec, cost).toCompletableFuture()
                .orTimeout(5, TimeUnit.SECONDS).join();
            assertThat(actual).as("%s: %s %s cost %d", context, key, spec, cost).isEqualTo(expected);
            if (expected.allowed()) {
              admitted.add(new Admitted(key, spec, cost));
            }
          }
        }
        assertThat(refunds).as("seed %d: refunds exercised", seed).isGreaterThan(30);
      } finally {
        redisStore.close();
      }
    }
  }

  @Test
  void randomSchedule_serverTime_sameVerdictsAndRemainingWithinElapsedTime() {
    List<BucketSpec> specs = List.of(
        new BucketSpec(Algorithm.GCRA, List.of(Limit.of(20, Duration.ofHours(1)))),
        new BucketSpec(Algorithm.GCRA, List.of(
            new Limit(5, Duration.ofMinutes(10).toNanos(), 8, "5/10 minutes burst 8"),
            Limit.of(40, Duration.ofHours(2)))),
        new BucketSpec(Algorithm.SLIDING_WINDOW, List.of(Limit.of(12, Duration.ofHours(1)),
            Limit.of(30, Duration.ofDays(1)))));
    Random random = new Random(42);
    ManualClock frozen = new ManualClock();
    MemoryStore memory = new MemoryStore(frozen, 1000);
    long started = System.nanoTime();
    int admitted = 0;
    int denied = 0;
    try (RedisStore redisStore = RedisStore.connect(RedisStoreOptions.of(List.of(redis.uri()), Duration.ofSeconds(2)))) {
      for (int step = 0; step < 300; step++) {
        int which = random.nextInt(specs.size());
        BucketSpec spec = specs.get(which);
        BucketKey key = new BucketKey("p" + which, IDENTITIES.get(random.nextInt(IDENTITIES.size())));
        long cost = 1 + random.nextInt(3);

        Consumption expected = memory.tryConsume(key, spec, cost).toCompletableFuture().join();
        Consumption actual = redisStore.tryConsume(key, spec, cost).toCompletableFuture()
            .orTimeout(5, TimeUnit.SECONDS).join();

        long elapsed = System.nanoTime() - started;
        String context = "step " + step + ": " + key + " " + spec + " cost " + cost;
        assertThat(actual.allowed()).as(context).isEqualTo(expected.allowed());
        assertThat(actual.deniedLimit()).as(context).isEqualTo(expected.deniedLimit());
        assertThat(actual.retryAfterNanos()).as(context)
            .isBetween(expected.retryAfterNanos() - elapsed, expected.retryAfterNanos());
        for (int i = 0; i < expected.limits().size(); i++) {
          LimitStatus e = expected.limits().get(i);
          LimitStatus a = actual.limits().get(i);
          assertThat(a.remaining()).as(context + " limit " + i).isEqualTo(e.remaining());
          assertThat(a.nanosToNextToken()).as(context + " limit " + i)
              .isBetween(e.nanosToNextToken() - elapsed, e.nanosToNextToken());
          assertThat(a.nanosToFull()).as(context + " limit " + i)
              .isBetween(e.nanosToFull() - elapsed, e.nanosToFull());
        }
        if (expected.allowed()) {
          admitted++;
        } else {
          denied++;
        }
      }
    }
    long elapsed = System.nanoTime() - started;
    assertThat(admitted).isPositive();
    assertThat(denied).isPositive();
    // The premise: shorter than every emission interval used above (3 minutes), so no token refilled.
    assertThat(Duration.ofNanos(elapsed)).isLessThan(Duration.ofMinutes(1));
  }

  private static long capacity(BucketSpec spec) {
    return spec.limits().stream()
        .mapToLong(l -> spec.algorithm() == Algorithm.GCRA ? l.burst() : l.quantity())
        .min().orElseThrow();
  }
}
