package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.LimitParser;
import dev.sluice.time.ManualClock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MemoryStoreTest {
  private static final BucketSpec TEN_PER_SECOND =
      new BucketSpec(Algorithm.GCRA, List.of(LimitParser.parse("10/second")));

  private final ManualClock clock = new ManualClock();

  private static Consumption consume(MemoryStore store, BucketKey key, BucketSpec spec, long cost) {
    CompletableFuture<Consumption> stage = store.tryConsume(key, spec, cost).toCompletableFuture();
    assertThat(stage).as("the memory store completes before returning").isDone();
    return stage.join();
  }

  /** The answer, or null when the store refused to track the new key (StoreFullException). */
  private static Consumption consumeOrFull(MemoryStore store, BucketKey key, BucketSpec spec, long cost) {
    try {
      return store.tryConsumeNow(key, spec, cost);
    } catch (StoreFullException e) {
      return null;
    }
  }

  private static BucketKey key(String identity) {
    return new BucketKey("test", identity);
  }

  /** What one thread of {@link #onThreads} does. */
  private interface Work {
    void run(int thread) throws Exception;
  }

  /** Runs {@code work} on {@code threads} threads released together; rethrows any failure. */
  private static void onThreads(int threads, Work work) throws Exception {
    Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    CountDownLatch start = new CountDownLatch(1);
    Thread[] workers = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      int thread = t;
      workers[t] = new Thread(() -> {
        try {
          start.await();
          work.run(thread);
        } catch (Throwable e) {
          failures.add(e);
        }
      });
      workers[t].start();
    }
    start.countDown();
    for (Thread worker : workers) {
      worker.join(60_000);
      assertThat(worker.isAlive()).isFalse();
    }
    StoreContractTest.rethrow(failures);
  }

  /** A spec of {@code |}-separated limits. */
  private static BucketSpec spec(Algorithm algorithm, String limits) {
    return new BucketSpec(algorithm, Arrays.stream(limits.split("\\|")).map(LimitParser::parse).toList());
  }

  @Test
  void tryConsume_oneLimitThenTwoThenOneAgain_carriesTheStateEachTimeWithoutLeakingSlots() {
    MemoryStore store = new MemoryStore(clock, 1);
    BucketSpec two = spec(Algorithm.GCRA, "10/second|100/hour");
    assertThat(consume(store, key("x"), TEN_PER_SECOND, 10).allowed()).isTrue();
    assertThat(consume(store, key("x"), TEN_PER_SECOND, 1).allowed()).isFalse();

    Consumption asTwo = consume(store, key("x"), two, 1);
    assertThat(asTwo.allowed()).as("10/second is unchanged: still used up").isFalse();
    assertThat(asTwo.limits()).hasSize(2);
    assertThat(asTwo.limit(1).remaining()).as("the added limit takes the 10 tokens used").isEqualTo(90);
    Consumption asOne = consume(store, key("x"), TEN_PER_SECOND, 1);
    assertThat(asOne.allowed()).as("back to one limit: still used up").isFalse();

    assertThat(store.size()).isOne();
    assertThat(store.evictions()).as("a reload is not an eviction").isZero();
    assertThat(consumeOrFull(store, key("y"), TEN_PER_SECOND, 1))
        .as("x is drained: the bound of 1 has no room for y").isNull();
    clock.advance(Duration.ofSeconds(2));
    assertThat(consume(store, key("y"), TEN_PER_SECOND, 1).allowed())
        .as("x full again: dropping it makes room for y").isTrue();
    assertThat(store.size()).isOne();
  }

  @Test
  void tryConsume_gcraThenSlidingWindow_carriesTheTokensUsed() {
    MemoryStore store = new MemoryStore(clock, 10);
    BucketSpec window = spec(Algorithm.SLIDING_WINDOW, "10/second");
    consume(store, key("x"), TEN_PER_SECOND, 10);

    assertThat(consume(store, key("x"), window, 1).allowed()).as("10 used, as a window").isFalse();
    assertThat(consume(store, key("x"), TEN_PER_SECOND, 1).allowed()).as("GCRA again, still used").isFalse();
    clock.advance(Duration.ofSeconds(1));
    assertThat(consume(store, key("x"), TEN_PER_SECOND, 10).allowed()).as("refilled a second later").isTrue();
  }

  @Test
  void tryConsume_limitTightenedByReload_carriesTheTokensUsedCappedAtTheNewBurst() {
    MemoryStore store = new MemoryStore(clock, 10);
    consume(store, key("x"), TEN_PER_SECOND, 10);
    BucketSpec tighter = spec(Algorithm.GCRA, "5/second");

    Consumption after = consume(store, key("x"), tighter, 1);

    assertThat(after.allowed()).as("a client that used 10 has used the new 5 up too").isFalse();
    assertThat(after.retryAfterNanos()).isEqualTo(Duration.ofMillis(200).toNanos());
  }

  @Test
  void tryConsume_limitLoosenedByReload_grantsOnlyWhatTheNewBurstLeaves() {
    MemoryStore store = new MemoryStore(clock, 10);
    consume(store, key("x"), TEN_PER_SECOND, 10);
    BucketSpec looser = spec(Algorithm.GCRA, "20/minute");

    int admitted = 0;
    while (consume(store, key("x"), looser, 1).allowed()) {
      admitted++;
    }

    assertThat(admitted).as("20 of burst minus the 10 already used").isEqualTo(10);
  }

  @Test
  void tryConsume_slowerRefillAfterReload_neverGivesAFreshBurst() {
    // Under tat alone, 10/second used up is a debt of one second, which 10/minute (one token per
    // 6 s) would read as less than one token used: a fresh burst. Tokens carry over instead.
    MemoryStore store = new MemoryStore(clock, 10);
    consume(store, key("x"), TEN_PER_SECOND, 10);

    assertThat(consume(store, key("x"), spec(Algorithm.GCRA, "10/minute"), 1).allowed()).isFalse();
  }

  @Test
  void tryConsume_unchangedLimitMovedInTheList_keepsItsStateExactly() {
    MemoryStore store = new MemoryStore(clock, 10);
    consume(store, key("x"), TEN_PER_SECOND, 4);
    BucketSpec two = spec(Algorithm.GCRA, "1000/hour|10/second");

    Consumption after = consume(store, key("x"), two, 1);

    assertThat(after.allowed()).isTrue();
    assertThat(after.limit(1).remaining()).isEqualTo(5);
  }

  @Test
  void refund_oneLimitBucket_givesBackExactlyTheCost() {
    MemoryStore store = new MemoryStore(clock, 10);
    consume(store, key("x"), TEN_PER_SECOND, 10);

    store.refund(key("x"), TEN_PER_SECOND, 3);

    assertThat(consume(store, key("x"), TEN_PER_SECOND, 3).allowed()).isTrue();
    assertThat(consume(store, key("x"), TEN_PER_SECOND, 1).allowed()).isFalse();
  }

  @Test
  void refund_afterTheBucketChangedKind_leavesTheNewBucketAlone() {
    MemoryStore store = new MemoryStore(clock, 10);
    BucketSpec two = spec(Algorithm.GCRA, "10/second|100/hour");
    consume(store, key("x"), two, 10);

    store.refund(key("x"), TEN_PER_SECOND, 5); // a refund of the old, one-limit spec

    assertThat(consume(store, key("x"), two, 1).allowed()).as("still drained").isFalse();
  }

  @Test
  void tryConsume_racingSweepsOnLockFreeBuckets_keepBoundAndCountEverySlotOnce() throws Exception {
    MemoryStore store = new MemoryStore(clock, 8);
    onThreads(8, thread -> {
      for (int i = 0; i < 2_000; i++) {
        // 12 keys over 8 slots: sweeps drop buckets other threads are deciding, and new keys
        // find no room while the 8 held are not full.
        consumeOrFull(store, key("ip:" + (i % 12)), TEN_PER_SECOND, 1);
        clock.advance(Duration.ofMillis(30));
        assertThat(store.size()).isLessThanOrEqualTo(8);
      }
    });

    assertThat(store.size()).isLessThanOrEqualTo(8);
    clock.advance(Duration.ofHours(1)); // everything full again: a sweep may drop all of it
    for (int i = 0; i < 8; i++) {
      assertThat(consume(store, key("fresh" + i), TEN_PER_SECOND, 1).allowed()).isTrue();
    }
    assertThat(store.size()).as("no slot was lost or freed twice").isEqualTo(8);
  }

  /** The one-limit GCRA bucket is decided lock-free, the others under a lock: both must hold. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"10/second burst 2000", "10/second burst 2000|100000/hour"})
  void tryConsume_sixteenThreadsFrozenTime_admitExactlyBurst(String limits) throws Exception {
    MemoryStore store = new MemoryStore(clock, 1_000);
    int rounds = 20;
    int threads = 16;
    int attempts = 200; // 3,200 attempts per round against a burst of 2,000: a long contended phase
    BucketSpec spec = spec(Algorithm.GCRA, limits);
    AtomicInteger[] admitted = new AtomicInteger[rounds];
    for (int r = 0; r < rounds; r++) {
      admitted[r] = new AtomicInteger();
    }
    Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    CyclicBarrier roundStart = new CyclicBarrier(threads);
    Thread[] workers = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      workers[t] =
          new Thread(
              () -> {
                try {
                  for (int r = 0; r < rounds; r++) {
                    roundStart.await(60, TimeUnit.SECONDS);
                    BucketKey key = key("ip:round" + r);
                    for (int i = 0; i < attempts; i++) {
                      if (consume(store, key, spec, 1).allowed()) {
                        admitted[r].incrementAndGet();
                      }
                    }
                  }
                } catch (Throwable e) {
                  failures.add(e);
                }
              });
      workers[t].start();
    }
    for (Thread worker : workers) {
      worker.join(120_000);
      assertThat(worker.isAlive()).isFalse();
    }
    StoreContractTest.rethrow(failures);

    for (int r = 0; r < rounds; r++) {
      assertThat(admitted[r].get()).as("round %d", r).isEqualTo(2000);
    }
  }

  @Test
  void tryConsume_concurrentDistinctKeys_neverExceedsMaxKeysAndRefusesTheRest() throws Exception {
    MemoryStore store = new MemoryStore(clock, 50);
    AtomicInteger refused = new AtomicInteger();
    onThreads(16, thread -> {
      for (int i = 0; i < 300; i++) {
        if (consumeOrFull(store, key("ip:" + thread + "." + i), TEN_PER_SECOND, 1) == null) {
          refused.incrementAndGet();
        }
        assertThat(store.size()).isLessThanOrEqualTo(50);
      }
    });

    assertThat(store.size()).isEqualTo(50);
    assertThat(refused.get()).as("time is frozen: nothing refills, so every other key is refused")
        .isEqualTo(16 * 300 - 50);
    assertThat(store.refusedKeys()).isEqualTo(refused.get());
    assertThat(store.evictions()).isZero();
  }

  @Test
  void tryConsume_fiveTimesMaxKeysIdentities_keepsBoundAndDropsOnlyFullBuckets() {
    int maxKeys = 1_000;
    MemoryStore store = new MemoryStore(clock, maxKeys);
    BucketSpec slow = new BucketSpec(Algorithm.GCRA, List.of(LimitParser.parse("5/day")));
    BucketSpec fast = new BucketSpec(Algorithm.GCRA, List.of(LimitParser.parse("1000/second")));
    // Ten drained buckets that stay far from full for the whole test.
    for (int i = 0; i < 10; i++) {
      assertThat(consume(store, key("api_key:kept" + i), slow, 5).allowed()).isTrue();
    }

    for (int i = 0; i < 5 * maxKeys; i++) {
      assertThat(consume(store, key("ip:filler" + i), fast, 1).allowed()).isTrue();
      assertThat(store.size()).as("after insert %d", i).isLessThanOrEqualTo(maxKeys);
      clock.advance(Duration.ofMillis(1)); // every filler is full again one interval later
    }

    assertThat(store.evictions()).as("only full buckets were dropped").isZero();
    for (int i = 0; i < 10; i++) {
      Consumption kept = consume(store, key("api_key:kept" + i), slow, 1);
      assertThat(kept.allowed()).as("kept%d still drained", i).isFalse();
      assertThat(kept.limits().get(0).remaining()).isZero();
    }
  }

  @Test
  void tryConsume_noFullBucketLeft_refusesTheNewKeyAndKeepsEveryBucket() {
    MemoryStore store = new MemoryStore(clock, 3);
    consume(store, key("a"), TEN_PER_SECOND, 10); // full in 1s
    consume(store, key("b"), TEN_PER_SECOND, 1); // full in 100ms: closest
    consume(store, key("c"), TEN_PER_SECOND, 5); // full in 500ms

    CompletableFuture<Consumption> d = store.tryConsume(key("d"), TEN_PER_SECOND, 1).toCompletableFuture();

    assertThat(d).isCompletedExceptionally();
    assertThatThrownBy(d::join).hasCauseInstanceOf(StoreFullException.class)
        .hasMessageContaining("the memory store holds its share of 3 buckets for policy \"test\", none of"
            + " them full yet; a new identity is refused until one refills");
    assertThat(store.size()).isEqualTo(3);
    assertThat(store.evictions()).isZero();
    assertThat(store.refusedKeys()).isOne();
    assertThat(consume(store, key("a"), TEN_PER_SECOND, 1).allowed()).as("a kept").isFalse();
    assertThat(consume(store, key("c"), TEN_PER_SECOND, 6).allowed()).as("c kept").isFalse();
    assertThat(consume(store, key("b"), TEN_PER_SECOND, 10).allowed()).as("b kept").isFalse();
    clock.advance(Duration.ofMillis(100)); // b full again: dropping it changes nothing
    assertThat(consume(store, key("d"), TEN_PER_SECOND, 1).allowed()).isTrue();
  }

  @Test
  void tryConsume_floodUnderOnePolicy_neverTakesTheShareOfAnother() {
    MemoryStore store = new MemoryStore(clock, 10);
    store.usePolicies(List.of("login", "search"));
    BucketSpec login = spec(Algorithm.GCRA, "5/minute");
    for (int i = 0; i < 5; i++) {
      consume(store, new BucketKey("login", "ip:victim"), login, 1);
    }
    int refused = 0;
    for (int i = 0; i < 100; i++) {
      if (consumeOrFull(store, new BucketKey("search", "api_key:" + i), TEN_PER_SECOND, 1) == null) {
        refused++;
      }
    }

    assertThat(store.shareLimit()).isEqualTo(5);
    assertThat(refused).isEqualTo(95);
    assertThat(consume(store, new BucketKey("login", "ip:victim"), login, 1).allowed())
        .as("the used-up login bucket survived the flood").isFalse();
    for (int i = 0; i < 4; i++) {
      assertThat(consume(store, new BucketKey("login", "ip:new" + i), login, 1).allowed())
          .as("login keeps its own share for new clients").isTrue();
    }
  }

  @Test
  void tryConsume_fullBucketAvailable_dropsItWithoutCountingAnEviction() {
    MemoryStore store = new MemoryStore(clock, 3);
    consume(store, key("a"), TEN_PER_SECOND, 10);
    consume(store, key("b"), TEN_PER_SECOND, 1);
    clock.advance(Duration.ofMillis(200)); // b is full again, a is not
    consume(store, key("c"), TEN_PER_SECOND, 1);

    consume(store, key("d"), TEN_PER_SECOND, 1);

    assertThat(store.size()).isEqualTo(3);
    assertThat(store.evictions()).isZero();
    assertThat(consume(store, key("a"), TEN_PER_SECOND, 3).allowed()).as("a kept").isFalse();
  }

  @Test
  void tryConsume_clockWithNegativeOrigin_decidesNormally() {
    ManualClock negative = new ManualClock(Long.MIN_VALUE / 2);
    MemoryStore store = new MemoryStore(negative, 10);

    assertThat(consume(store, key("x"), TEN_PER_SECOND, 10).allowed()).isTrue();
    assertThat(consume(store, key("x"), TEN_PER_SECOND, 1).retryAfterNanos()).isEqualTo(100_000_000L);
    negative.advance(Duration.ofMillis(100));
    assertThat(consume(store, key("x"), TEN_PER_SECOND, 1).allowed()).isTrue();
  }

  @Test
  void tryConsume_costAboveCapacity_isRejected() {
    MemoryStore store = new MemoryStore(clock);

    assertThatThrownBy(() -> store.tryConsume(key("x"), TEN_PER_SECOND, 11))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cost must be between 1 and the capacity of limit \"10/second\" (10), got 11");
    assertThat(store.size()).isZero();
  }

  @Test
  void tryConsume_specWithMoreLimitsAfterReload_keepsTheUnchangedLimitsState() {
    MemoryStore store = new MemoryStore(clock, 10);
    consume(store, key("x"), TEN_PER_SECOND, 10);
    BucketSpec reloaded =
        new BucketSpec(
            Algorithm.GCRA, List.of(LimitParser.parse("10/second"), LimitParser.parse("100/hour")));

    Consumption afterReload = consume(store, key("x"), reloaded, 1);

    assertThat(afterReload.allowed()).as("10/second is unchanged and used up").isFalse();
    assertThat(afterReload.limits()).hasSize(2);
  }

  @Test
  void construct_nonPositiveMaxKeys_isRejected() {
    assertThatThrownBy(() -> new MemoryStore(clock, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("store max_keys must be at least 1, got 0");
  }

  @Test
  void defaults_matchTheSpec() {
    MemoryStore store = new MemoryStore(clock);
    assertThat(MemoryStore.DEFAULT_MAX_KEYS).isEqualTo(1_000_000);
    assertThat(store.maxKeys()).isEqualTo(1_000_000);
    assertThat(store.ping().toCompletableFuture()).isCompletedWithValue(null);
    store.close();
    store.close();
  }
}
