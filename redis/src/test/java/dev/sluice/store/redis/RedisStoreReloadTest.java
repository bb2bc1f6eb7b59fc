package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.Limit;
import dev.sluice.limit.LimitParser;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.testkit.RedisServer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A reload that changes a policy's limits (SPEC §9) on a real redis-server: unchanged limits keep
 * their keys, changed ones take the used tokens over from the old key (never a fresh burst), the
 * same rule as the memory store (docs/algorithms.md).
 */
class RedisStoreReloadTest {
  private static RedisServer redis;
  private static RedisStore store;

  @BeforeAll
  static void startRedis() {
    redis = RedisServer.start();
    store = RedisStore.connect(RedisStoreOptions.of(List.of(redis.uri()), Duration.ofSeconds(2)));
  }

  @AfterAll
  static void stopRedis() {
    store.close();
    redis.stop();
  }

  @BeforeEach
  void flush() {
    redis.flushAll();
  }

  private static BucketSpec spec(Algorithm algorithm, String... limits) {
    return new BucketSpec(algorithm, Arrays.stream(limits).map(LimitParser::parse).toList());
  }

  private static int admitted(BucketKey key, BucketSpec spec, int max) {
    int admitted = 0;
    for (int i = 0; i < max; i++) {
      if (RedisStoreTest.decide(store, key, spec, 1).allowed()) {
        admitted++;
      }
    }
    return admitted;
  }

  @Test
  void changedGcraLimit_takesTheUsedTokensOverFromTheOldKey() {
    BucketKey key = new BucketKey("reload-a", "ip:192.0.2.1");
    assertThat(admitted(key, spec(Algorithm.GCRA, "3/hour"), 3)).isEqualTo(3);

    assertThat(admitted(key, spec(Algorithm.GCRA, "5/hour"), 10)).as("5 minus the 3 used").isEqualTo(2);
  }

  @Test
  void tightenedRate_neverGivesAFreshBurst() {
    BucketKey key = new BucketKey("reload-b", "ip:192.0.2.2");
    assertThat(admitted(key, spec(Algorithm.GCRA, "10/second"), 10)).isEqualTo(10);

    assertThat(admitted(key, spec(Algorithm.GCRA, "10/minute"), 10)).as("10 used of the new 10").isZero();
  }

  @Test
  void unchangedLimitBesideAChangedOne_keepsItsKey() {
    BucketKey key = new BucketKey("reload-c", "ip:192.0.2.3");
    assertThat(admitted(key, spec(Algorithm.GCRA, "2/minute", "100/hour"), 2)).isEqualTo(2);

    assertThat(admitted(key, spec(Algorithm.GCRA, "2/minute", "200/hour"), 5)).as("2/minute still used up").isZero();
  }

  @Test
  void changedSlidingWindow_keepsTheOldAdmissions() {
    BucketKey key = new BucketKey("reload-d", "ip:192.0.2.4");
    assertThat(admitted(key, spec(Algorithm.SLIDING_WINDOW, "4/hour"), 4)).isEqualTo(4);

    assertThat(admitted(key, spec(Algorithm.SLIDING_WINDOW, "6/hour"), 10)).as("6 minus the 4 kept").isEqualTo(2);
    assertThat(admitted(key, spec(Algorithm.SLIDING_WINDOW, "3/hour"), 10)).as("3 of the newest kept").isZero();
  }

  @Test
  void newIdentityAfterAChange_startsFull() {
    admitted(new BucketKey("reload-e", "ip:192.0.2.5"), spec(Algorithm.GCRA, "3/hour"), 3);

    assertThat(admitted(new BucketKey("reload-e", "ip:192.0.2.6"), spec(Algorithm.GCRA, "5/hour"), 10)).isEqualTo(5);
    assertThat(Limit.of(1, Duration.ofSeconds(1)).quantity()).isOne();
  }
}
