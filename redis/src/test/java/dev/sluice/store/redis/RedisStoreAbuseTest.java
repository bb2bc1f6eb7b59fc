package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.Limit;
import dev.sluice.store.Ban;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.StoreException;
import dev.sluice.testkit.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Abuse control (SPEC §7) on a real redis-server: refunds, offence counts, bans shared between
 * instances, concurrency permits, and a TTL on every key written.
 *
 * <p>Time: the stores run on the server's {@code TIME} shifted forward by {@link #offset} (the
 * scripts' "plus" seam), so "a window later" or "after the lease" needs no sleeping. Two stores
 * share the offset, like two gateways sharing one Redis clock.
 */
class RedisStoreAbuseTest {

  private static final Duration MINUTE = Duration.ofMinutes(1);

  private static RedisServer redis;
  private static final AtomicLong offset = new AtomicLong();
  private static RedisStore store;
  private static RedisStore other;

  @BeforeAll
  static void start() {
    redis = RedisServer.start();
    RedisStoreOptions options = RedisStoreOptions.of(List.of(redis.uri()), Duration.ofSeconds(5));
    DecisionScript.TestTime shifted = new DecisionScript.TestTime(offset::get, true);
    store = RedisStore.connect(options, shifted);
    other = RedisStore.connect(options, shifted);
  }

  @AfterAll
  static void stop() {
    if (store != null) {
      store.close();
    }
    if (other != null) {
      other.close();
    }
    if (redis != null) {
      redis.stop();
    }
  }

  @BeforeEach
  void reset() {
    redis.flushAll();
    offset.set(0);
  }

  private static <T> T join(CompletionStage<T> stage) {
    return stage.toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();
  }

  private static void advance(Duration duration) {
    offset.addAndGet(duration.toNanos());
  }

  private static long pttl(String key) {
    return Long.parseLong(redis.call("PTTL", key));
  }

  private static final BucketKey KEY = new BucketKey("login", "ip:203.0.113.7");

  // ---- refund

  @Test
  void refund_gcra_givesTheTokensBack() {
    BucketSpec spec = new BucketSpec(Algorithm.GCRA, List.of(Limit.of(5, MINUTE), Limit.of(20, Duration.ofHours(1))));
    join(store.tryConsume(KEY, spec, 2));
    join(store.tryConsume(KEY, spec, 3));

    join(store.refund(KEY, spec, 3));
    Consumption after = join(store.tryConsume(KEY, spec, 3));

    assertThat(after.allowed()).isTrue();
    assertThat(after.limits().get(0).remaining()).isZero();
    assertThat(after.limits().get(1).remaining()).isEqualTo(15);
    assertThat(join(store.tryConsume(KEY, spec, 1)).allowed()).isFalse();
  }

  @Test
  void refund_gcraMoreThanConsumed_stopsAtFullAndDeletesTheKey() {
    BucketSpec spec = new BucketSpec(Algorithm.GCRA, List.of(Limit.of(3, MINUTE)));
    join(store.tryConsume(KEY, spec, 1));
    String key = RedisKeys.keys(KEY, spec)[0];
    assertThat(redis.call("EXISTS", key)).isEqualTo("1");

    join(store.refund(KEY, spec, 3)); // more than the 1 consumed: never beyond a full bucket

    assertThat(redis.call("EXISTS", key)).as("a full bucket is an absent key").isEqualTo("0");
    for (int i = 0; i < 3; i++) {
      assertThat(join(store.tryConsume(KEY, spec, 1)).allowed()).as("request %d", i).isTrue();
    }
    assertThat(join(store.tryConsume(KEY, spec, 1)).allowed()).as("no token beyond the burst").isFalse();
  }

  @Test
  void refund_unknownBucket_writesNothing() {
    BucketSpec gcra = new BucketSpec(Algorithm.GCRA, List.of(Limit.of(3, MINUTE)));
    BucketSpec window = new BucketSpec(Algorithm.SLIDING_WINDOW, List.of(Limit.of(3, MINUTE)));

    join(store.refund(KEY, gcra, 2));
    join(store.refund(KEY, window, 2));

    assertThat(redis.dbSize()).isZero();
  }

  @Test
  void refund_slidingWindow_removesTheNewestEntriesAndShortensTheTtl() {
    BucketSpec spec = new BucketSpec(Algorithm.SLIDING_WINDOW, List.of(Limit.of(4, MINUTE)));
    String key = RedisKeys.keys(KEY, spec)[0];
    join(store.tryConsume(KEY, spec, 1));
    advance(Duration.ofSeconds(20));
    join(store.tryConsume(KEY, spec, 2));
    assertThat(pttl(key)).as("TTL follows the newest entry").isBetween(59_000L, 60_000L);

    join(store.refund(KEY, spec, 2));

    assertThat(redis.call("LLEN", key)).isEqualTo("1");
    // The entry left is 20 s old (on the shifted clock): it leaves the window 40 s from now.
    assertThat(pttl(key)).isBetween(39_000L, 40_000L);
    Consumption after = join(store.tryConsume(KEY, spec, 3));
    assertThat(after.allowed()).isTrue();
    assertThat(after.limits().get(0).remaining()).isZero();

    join(store.refund(KEY, spec, 4)); // every entry held: the list goes, the bucket is full
    assertThat(redis.call("EXISTS", key)).isEqualTo("0");
  }

  @Test
  void refund_costAboveCapacity_isRejectedLikeTheMemoryStore() {
    BucketSpec spec = new BucketSpec(Algorithm.GCRA, List.of(Limit.of(3, MINUTE)));

    assertThatThrownBy(() -> store.refund(KEY, spec, 4))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cost must be between 1 and the capacity of limit \"3/minute\" (3), got 4");
  }

  // ---- offences

  @Test
  void recordOffence_countsWithinTheWindow_perKey() {
    long window = Duration.ofMinutes(10).toNanos();

    assertThat(join(store.recordOffence("login:ip:1.2.3.4", window))).isEqualTo(1);
    assertThat(join(other.recordOffence("login:ip:1.2.3.4", window))).as("another instance").isEqualTo(2);
    assertThat(join(store.recordOffence("login:ip:5.6.7.8", window))).as("another key").isEqualTo(1);
    advance(Duration.ofMinutes(6));
    assertThat(join(store.recordOffence("login:ip:1.2.3.4", window))).isEqualTo(3);

    advance(Duration.ofMinutes(4)); // the first two are now a window old; the third is not
    assertThat(join(store.recordOffence("login:ip:1.2.3.4", window))).isEqualTo(2);
    advance(Duration.ofMinutes(11));
    assertThat(join(store.recordOffence("login:ip:1.2.3.4", window))).as("all forgotten").isEqualTo(1);
    String key = RedisKeys.offence("login:ip:1.2.3.4");
    assertThat(pttl(key)).as("TTL = the window").isBetween(599_000L, 600_000L);
    assertThat(redis.call("LLEN", key)).isEqualTo("1");
  }

  @Test
  void recordOffence_exactlyAWindowOld_isForgottenLikeInTheMemoryStore() {
    // The script's exact-time seam: now is what the test says, to the nanosecond.
    AtomicLong at = new AtomicLong(5_000_000_000_123L);
    try (RedisStore exact = RedisStore.connect(RedisStoreOptions.of(List.of(redis.uri()), Duration.ofSeconds(5)),
        new DecisionScript.TestTime(at::get, false))) {
      long window = Duration.ofSeconds(10).toNanos();
      assertThat(join(exact.recordOffence("edge", window))).isEqualTo(1);
      at.addAndGet(window - 1);
      assertThat(join(exact.recordOffence("edge", window))).as("1ns inside the window").isEqualTo(2);
      at.addAndGet(1);
      assertThat(join(exact.recordOffence("edge", window))).as("the first is a window old").isEqualTo(2);
    }
  }

  @Test
  void recordOffence_manyOffences_countSaturatesAtTheMemoryStoresBound() {
    long window = Duration.ofHours(24).toNanos();
    List<CompletableFuture<Long>> counts = new ArrayList<>();
    for (int i = 0; i < AbuseScript.MAX_OFFENCES_PER_KEY + 5; i++) {
      counts.add(store.recordOffence("spam:ip:9.9.9.9", window).toCompletableFuture());
    }

    List<Long> values = counts.stream().map(RedisStoreAbuseTest::join).toList();

    assertThat(values.subList(0, 3)).containsExactly(1L, 2L, 3L);
    assertThat(values.get(AbuseScript.MAX_OFFENCES_PER_KEY - 1)).isEqualTo(AbuseScript.MAX_OFFENCES_PER_KEY);
    assertThat(values.get(values.size() - 1)).isEqualTo(AbuseScript.MAX_OFFENCES_PER_KEY);
    assertThat(redis.call("LLEN", RedisKeys.offence("spam:ip:9.9.9.9")))
        .isEqualTo(Integer.toString(AbuseScript.MAX_OFFENCES_PER_KEY));
  }

  @Test
  void recordOffence_nonPositiveWindow_isRejected() {
    assertThatThrownBy(() -> store.recordOffence("k", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("offence window must be positive, got 0ns");
  }

  // ---- bans

  private static Ban ban(String scope, String identity, Duration lasting, String reason) {
    return Ban.of(scope, identity, System.currentTimeMillis() + lasting.toMillis(), reason);
  }

  @Test
  void banChanges_areListedByTheOtherInstanceOnItsNextCall() {
    Ban login = ban("login", "ip:203.0.113.7", Duration.ofMinutes(15), "5 failed logins");
    Ban everywhere = ban(Ban.ALL_POLICIES, "api_key:3f2a9c", Duration.ofHours(1), "manual");
    assertThat(join(store.listBans())).isEmpty();
    assertThat(join(other.listBans())).isEmpty();

    join(other.putBan(login));
    assertThat(join(store.listBans())).containsExactly(login);
    join(store.putBan(everywhere));
    assertThat(join(other.listBans())).containsExactlyInAnyOrder(login, everywhere);
    join(other.removeBan(login.id()));
    assertThat(join(store.listBans())).containsExactly(everywhere);
    join(store.removeBan(everywhere.id()));
    assertThat(join(other.listBans())).isEmpty();
  }

  @Test
  void putBan_sameScopeAndIdentity_replacesTheEarlierBan() {
    Ban first = ban("login", "ip:203.0.113.7", Duration.ofMinutes(15), "offence 1");
    Ban second = ban("login", "ip:203.0.113.7", Duration.ofMinutes(30), "offence 2");
    Ban otherScope = ban(Ban.ALL_POLICIES, "ip:203.0.113.7", Duration.ofMinutes(5), "manual");

    join(store.putBan(first));
    join(other.putBan(second));
    join(store.putBan(otherScope));

    assertThat(join(store.listBans())).containsExactlyInAnyOrder(second, otherScope);
  }

  @Test
  void removeBan_removesItForEveryInstance_andSaysWhetherOneWasActive() {
    Ban login = ban("login", "ip:203.0.113.7", Duration.ofMinutes(15), "5 failed logins");
    join(store.putBan(login));

    assertThat(join(other.removeBan(login.id()))).isTrue();
    assertThat(join(store.listBans())).isEmpty();
    assertThat(join(store.removeBan(login.id()))).as("already gone").isFalse();
    assertThat(join(store.removeBan("0123456789abcdef"))).as("never existed").isFalse();
    assertThat(scanAll()).as("the last ban out takes every ban key; only the store's generation stays")
        .containsExactly(RedisKeys.GENERATION);
  }

  @Test
  void listBans_expiredBans_areNotListedAndArePruned() {
    Ban shortBan = ban("login", "ip:192.0.2.1", Duration.ofSeconds(30), "short");
    Ban longBan = ban("login", "ip:192.0.2.2", Duration.ofMinutes(10), "long");
    Ban alreadyOver = Ban.of("login", "ip:192.0.2.3", System.currentTimeMillis() - 1, "over");
    join(store.putBan(shortBan));
    join(store.putBan(longBan));
    join(store.putBan(alreadyOver));
    assertThat(join(store.listBans())).containsExactlyInAnyOrder(shortBan, longBan);

    advance(Duration.ofSeconds(31));

    assertThat(join(store.listBans())).as("the copy is renewed when a ban expires").containsExactly(longBan);
    assertThat(redis.call("HLEN", RedisKeys.BANS)).as("pruned, not just hidden").isEqualTo("1");
    assertThat(redis.call("ZCARD", RedisKeys.BAN_EXPIRY)).isEqualTo("1");
    assertThat(join(store.removeBan(shortBan.id()))).as("an expired ban is not active").isFalse();
  }

  @Test
  void putBan_alreadyExpired_removesAnEarlierBanWithItsId() {
    Ban active = ban("login", "ip:192.0.2.1", Duration.ofMinutes(10), "active");
    join(store.putBan(active));

    join(store.putBan(Ban.of("login", "ip:192.0.2.1", System.currentTimeMillis() - 1000, "lifted")));

    assertThat(join(store.listBans())).isEmpty();
  }

  @Test
  void listBans_nothingChanged_isAnsweredFromTheVersionAlone() {
    Ban ban = ban("login", "ip:192.0.2.1", Duration.ofMinutes(10), "x");
    join(store.putBan(ban));
    assertThat(join(store.listBans())).containsExactly(ban);
    // Changed behind the script's back, so the version stays: only a full read would see it.
    redis.call("HSET", RedisKeys.BANS, ban.id(), BanCodec.encode(
        Ban.of("login", "ip:192.0.2.1", ban.expiresAtEpochMillis(), "tampered")));

    assertThat(join(store.listBans())).as("the copy is current").containsExactly(ban);
    assertThat(join(other.listBans()).get(0).reason()).as("a full read").isEqualTo("tampered");
  }

  @Test
  void listBans_registryLostAndRefilled_neverServesTheOldCopy() {
    Ban before = ban("login", "ip:192.0.2.1", Duration.ofMinutes(10), "before");
    join(store.putBan(before));
    assertThat(join(store.listBans())).containsExactly(before);

    redis.flushAll(); // a restart without persistence, or a failover that lost the writes
    assertThat(join(store.listBans())).isEmpty();
    Ban after = ban("login", "ip:192.0.2.1", Duration.ofMinutes(10), "after");
    join(other.putBan(after)); // as many changes as before: only the version's time tells them apart

    assertThat(join(store.listBans())).containsExactly(after);
  }

  @Test
  void putBan_everyBanKeyExpiresWithTheLongestBan() {
    join(store.putBan(ban("login", "ip:192.0.2.1", Duration.ofMinutes(10), "long")));
    join(store.putBan(ban("login", "ip:192.0.2.2", Duration.ofMinutes(1), "short")));

    for (String key : List.of(RedisKeys.BANS, RedisKeys.BAN_EXPIRY, RedisKeys.BAN_VERSION, RedisKeys.BAN_HELD)) {
      assertThat(pttl(key)).as(key).isBetween(Duration.ofMinutes(10).minusSeconds(5).toMillis(),
          Duration.ofMinutes(10).toMillis());
    }
  }

  @Test
  void putBan_floodOfAttackerPenaltyBans_evictsNoOperatorOrOtherPolicysBanAndIsCounted() {
    try (RedisStore bounded = RedisStore.connect(
        RedisStoreOptions.of(List.of(redis.uri()), Duration.ofSeconds(5)),
        new DecisionScript.TestTime(offset::get, true))) {
      // 50,000 policies: a share of 100,000 / 50,000 = 2 penalty bans per policy.
      List<String> policies = new java.util.ArrayList<>();
      for (int i = 0; i < 50_000; i++) {
        policies.add(i < 2 ? List.of("login", "search").get(i) : "p" + i);
      }
      bounded.usePolicies(policies);
      long now = System.currentTimeMillis();
      Ban operator = Ban.of(Ban.ALL_POLICIES, "ip:203.0.113.9", now + 1_800_000, "operator");
      Ban victim = Ban.penalty("login", "login", "ip:198.51.100.1", now + 900_000, "offence 1");
      join(bounded.putBan(operator));
      join(bounded.putBan(victim));
      int refused = 0;
      for (int i = 0; i < 10; i++) {
        Ban attacker = Ban.penalty("search", Ban.ALL_POLICIES, "api_key:" + i, now + 86_400_000L, "flood");
        try {
          join(bounded.putBan(attacker));
        } catch (java.util.concurrent.CompletionException e) {
          assertThat(e.getCause()).isInstanceOf(dev.sluice.store.PenaltyRefusedException.class)
              .hasMessage("policy \"search\" already holds its share of 2 live penalty bans; nothing is"
                  + " evicted to make room, so this one is not recorded");
          refused++;
        }
      }

      assertThat(refused).isEqualTo(8);
      assertThat(bounded.penaltiesRefused()).isEqualTo(8);
      assertThat(join(bounded.listBans())).hasSize(4).contains(operator, victim);
      assertThat(redis.call("HGET", RedisKeys.BAN_HELD, "p:search")).isEqualTo("2");
      // A penalty never shortens a live operator ban with the same id.
      join(bounded.putBan(Ban.penalty("login", Ban.ALL_POLICIES, "ip:203.0.113.9", now + 60_000, "trip")));
      assertThat(join(bounded.listBans())).contains(operator);
      // Expired penalty bans give their share back.
      advance(Duration.ofDays(2));
      join(bounded.putBan(Ban.penalty("search", Ban.ALL_POLICIES, "api_key:new",
          System.currentTimeMillis() + Duration.ofDays(3).toMillis(), "later")));
      assertThat(redis.call("HGET", RedisKeys.BAN_HELD, "p:search")).isEqualTo("1");
    }
  }

  @Test
  void resets_flushAll_isCountedOncePerInstanceOnItsNextList_andNeverWithoutOne() {
    join(store.listBans());
    join(other.listBans());
    long before = store.resets();
    long otherBefore = other.resets();
    join(store.putBan(ban("login", "ip:192.0.2.1", Duration.ofMinutes(10), "x")));
    join(store.listBans());
    join(other.listBans());
    assertThat(store.resets()).as("bans changing is no reset").isEqualTo(before);

    redis.flushAll();
    join(store.listBans());
    join(store.listBans());
    join(other.listBans());

    assertThat(store.resets()).as("counted once").isEqualTo(before + 1);
    assertThat(other.resets()).as("the other instance notices the generation the first one set")
        .isEqualTo(otherBefore + 1);
    assertThat(join(other.listBans())).isEmpty();
    assertThat(redis.call("GET", RedisKeys.GENERATION)).isNotBlank();
  }

  @Test
  void listBans_corruptEntry_failsWithStoreExceptionNamingIt() {
    join(store.putBan(ban("login", "ip:192.0.2.1", Duration.ofMinutes(10), "x")));
    String id = Ban.idOf("login", "ip:192.0.2.1");
    redis.call("HSET", RedisKeys.BANS, id, "garbage");

    assertThatThrownBy(() -> join(store.listBans()))
        .isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(StoreException.class)
        .satisfies(e -> assertThat(e.getCause()).hasMessage("stored ban 'garbage' is malformed; expected"
            + " <expiresAtMillis>:<length>:<scope><length>:<identity><reason>"));
    assertThat(store.circuitOpen()).as("Redis answered: not an outage").isFalse();
  }

  // ---- permits

  @Test
  void acquirePermit_upToMax_thenRefusedUntilOneIsReleased() {
    long lease = Duration.ofMinutes(5).toNanos();

    assertThat(join(store.acquirePermit("exports:api_key:k1", 2, lease))).isTrue();
    assertThat(join(other.acquirePermit("exports:api_key:k1", 2, lease))).isTrue();
    assertThat(join(store.acquirePermit("exports:api_key:k1", 2, lease))).isFalse();
    assertThat(join(store.acquirePermit("exports:api_key:k2", 2, lease))).as("another key").isTrue();

    join(other.releasePermit("exports:api_key:k1"));

    assertThat(join(store.acquirePermit("exports:api_key:k1", 2, lease))).isTrue();
    assertThat(join(store.acquirePermit("exports:api_key:k1", 2, lease))).isFalse();
    String key = RedisKeys.permit("exports:api_key:k1");
    assertThat(pttl(key)).as("TTL = the lease").isBetween(299_000L, 300_000L);
  }

  @Test
  void releasePermit_moreOftenThanAcquired_neverGoesBelowZero() {
    long lease = Duration.ofMinutes(5).toNanos();
    join(store.acquirePermit("p:ip:1", 1, lease));

    join(store.releasePermit("p:ip:1"));
    join(store.releasePermit("p:ip:1"));
    join(store.releasePermit("p:ip:never"));

    assertThat(redis.dbSize()).as("no permit held: no key").isZero();
    assertThat(join(store.acquirePermit("p:ip:1", 1, lease))).isTrue();
    assertThat(join(store.acquirePermit("p:ip:1", 1, lease))).as("still capped at 1").isFalse();
  }

  @Test
  void acquirePermit_leakedPermit_freesItselfAfterItsLeaseWhileOthersKeepAcquiring() {
    long lease = Duration.ofSeconds(30).toNanos();
    assertThat(join(store.acquirePermit("p:ip:1", 2, lease))).as("never released: leaked").isTrue();
    advance(Duration.ofSeconds(20));
    assertThat(join(store.acquirePermit("p:ip:1", 2, lease))).isTrue();
    assertThat(join(store.acquirePermit("p:ip:1", 2, lease))).isFalse();

    advance(Duration.ofSeconds(11)); // the first lease ended; the second has 19 s left

    assertThat(join(other.acquirePermit("p:ip:1", 2, lease))).isTrue();
    assertThat(join(other.acquirePermit("p:ip:1", 2, lease))).isFalse();
    assertThat(redis.call("ZCARD", RedisKeys.permit("p:ip:1"))).isEqualTo("2");
  }

  @Test
  void acquirePermit_badArguments_areRejectedLikeTheMemoryStore() {
    assertThatThrownBy(() -> store.acquirePermit("k", 0, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a permit needs max >= 1 and a positive lease, got max 0 and lease 1ns");
  }

  @Test
  void permits_sixteenThreadsOnTwoInstances_neverExceedMax() throws Exception {
    int max = 3;
    int threads = 16;
    int rounds = 40;
    long lease = Duration.ofMinutes(1).toNanos();
    AtomicInteger holding = new AtomicInteger();
    AtomicInteger mostHeld = new AtomicInteger();
    AtomicInteger acquired = new AtomicInteger();
    Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    CyclicBarrier start = new CyclicBarrier(threads);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      RedisStore gateway = t % 2 == 0 ? store : other;
      Thread worker = new Thread(() -> {
        try {
          start.await(10, TimeUnit.SECONDS);
          for (int i = 0; i < rounds; i++) {
            if (join(gateway.acquirePermit("exports:api_key:hot", max, lease))) {
              acquired.incrementAndGet();
              // Counted while held: incremented after Redis granted, decremented before releasing.
              int now = holding.incrementAndGet();
              mostHeld.accumulateAndGet(now, Math::max);
              join(gateway.ping()); // hold it for a round trip, as a request holds it upstream
              holding.decrementAndGet();
              join(gateway.releasePermit("exports:api_key:hot"));
            }
          }
        } catch (Throwable e) {
          failures.add(e);
          start.reset();
        }
      }, "permit-worker-" + t);
      workers.add(worker);
      worker.start();
    }
    for (Thread worker : workers) {
      worker.join(TimeUnit.SECONDS.toMillis(30));
      assertThat(worker.isAlive()).as("%s finished", worker.getName()).isFalse();
    }
    Throwable first = failures.poll();
    if (first != null) {
      AssertionError error = new AssertionError("a worker thread failed", first);
      failures.forEach(error::addSuppressed);
      throw error;
    }

    assertThat(mostHeld.get()).isBetween(1, max);
    assertThat(acquired.get()).as("the permits were contended and reused").isGreaterThan(max);
    assertThat(redis.dbSize()).as("every permit returned").isZero();
  }

  // ---- every key

  @Test
  void everyOperation_everyKeyItWritesHasATtl() {
    BucketSpec gcra = new BucketSpec(Algorithm.GCRA, List.of(Limit.of(5, MINUTE), Limit.of(50, Duration.ofHours(1))));
    BucketSpec window = new BucketSpec(Algorithm.SLIDING_WINDOW, List.of(Limit.of(5, MINUTE)));
    for (int i = 0; i < 20; i++) {
      BucketKey key = new BucketKey("p", "ip:10.0.0." + i);
      join(store.tryConsume(key, gcra, 3));
      join(store.refund(key, gcra, 1));
      join(store.tryConsume(new BucketKey("w", key.identity()), window, 3));
      join(store.refund(new BucketKey("w", key.identity()), window, 1));
      join(store.recordOffence("p:" + key.identity(), Duration.ofHours(24).toNanos()));
      join(store.acquirePermit("p:" + key.identity(), 2, Duration.ofMinutes(2).toNanos()));
      join(store.acquirePermit("p:" + key.identity(), 2, Duration.ofMinutes(2).toNanos()));
      join(store.releasePermit("p:" + key.identity()));
      join(store.putBan(ban("p", key.identity(), Duration.ofMinutes(15), "test")));
    }
    join(store.removeBan(Ban.idOf("p", "ip:10.0.0.0")));
    join(store.listBans());

    List<String> keys = new java.util.ArrayList<>(scanAll());
    // The generation is the one key without a TTL, by design: its vanishing is the signal of a
    // store erased behind Sluice's back (one short string per data set).
    assertThat(keys.remove(RedisKeys.GENERATION)).as("the generation is set by listBans").isTrue();
    assertThat(pttl(RedisKeys.GENERATION)).isEqualTo(-1);
    assertThat(keys).hasSize(20 * 2 + 20 + 20 + 20 + 4); // + the four ban keys
    for (String key : keys) {
      assertThat(key).startsWith("sluice:v1:");
      // -1 would be a key that never expires; -2 one that vanished meanwhile.
      assertThat(pttl(key)).as("PTTL of %s", key).isPositive();
    }
  }

  private static List<String> scanAll() {
    List<String> keys = new ArrayList<>();
    String cursor = "0";
    do {
      String[] reply = redis.call("SCAN", cursor, "COUNT", "1000").split("\n");
      cursor = reply[0];
      keys.addAll(Arrays.asList(reply).subList(1, reply.length));
    } while (!cursor.equals("0"));
    return keys;
  }

  @Test
  void afterScriptFlush_abuseOperationsReloadTheScript() {
    join(store.recordOffence("k", MINUTE.toNanos()));
    redis.call("SCRIPT", "FLUSH");

    assertThat(join(store.recordOffence("k", MINUTE.toNanos()))).isEqualTo(2);
    assertThat(redis.call("SCRIPT", "EXISTS", AbuseScript.INSTANCE.sha())).isEqualTo("1");
  }

  @Test
  void redisDown_abuseOperationsFailWithStoreExceptionThroughTheCircuitBreaker() {
    try (RedisServer doomed = RedisServer.start();
        RedisStore failing = RedisStore.connect(
            new RedisStoreOptions(List.of(doomed.uri()), Duration.ofMillis(500), Duration.ofMinutes(1)))) {
      assertThat(join(failing.acquirePermit("k", 1, MINUTE.toNanos()))).isTrue();
      doomed.stop();

      assertThatThrownBy(() -> join(failing.releasePermit("k")))
          .hasCauseInstanceOf(StoreException.class);
      assertThat(failing.circuitOpen()).isTrue();
      assertThatThrownBy(() -> join(failing.listBans()))
          .hasCauseInstanceOf(StoreException.class)
          .satisfies(e -> assertThat(e.getCause())
              .hasMessageStartingWith("redis store unavailable (circuit open after: "));
    }
  }

  @Test
  void closedStore_everyOperationFailsWithStoreException() {
    RedisStore closing = RedisStore.connect(RedisStoreOptions.of(List.of(redis.uri()), Duration.ofSeconds(1)));
    closing.close();
    BucketSpec spec = new BucketSpec(Algorithm.GCRA, List.of(Limit.of(5, MINUTE)));

    List<CompletionStage<?>> calls = List.of(closing.refund(KEY, spec, 1), closing.recordOffence("k", 1),
        closing.putBan(ban("p", "ip:1.1.1.1", MINUTE, "x")), closing.removeBan("x"), closing.listBans(),
        closing.acquirePermit("k", 1, 1), closing.releasePermit("k"));

    for (CompletionStage<?> call : calls) {
      assertThatThrownBy(() -> join(call))
          .hasCauseInstanceOf(StoreException.class)
          .satisfies(e -> assertThat(e.getCause()).hasMessageStartingWith("redis store is closed; cannot "));
    }
  }
}
