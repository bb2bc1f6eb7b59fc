package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.LimitParser;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletionStage;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link Store} backend must pass (memory, Redis, …): extend this class in the
 * backend's test sources (the core test-jar ships it) and implement the hooks.
 *
 * <h2>Hooks</h2>
 *
 * <ul>
 *   <li>{@link #newStore()} — a new, empty-enough store for one test. Called before each test;
 *       the store is {@linkplain Store#close() closed} after it. Every test uses bucket keys with
 *       a random policy name ({@link #uniqueKey(String)}), so a shared server need not be flushed.
 *   <li>{@link #advance(Duration)} — make at least the given time pass <em>for the store</em>. The
 *       store's clock need not be the test's: the memory store advances its {@code ManualClock};
 *       a Redis backend, whose scripts read the server clock, may really wait (or shift an offset
 *       its script adds to the server time, if it has one). Waits requested by this suite stay
 *       within about a second in total per test.
 *   <li>{@link #timingTolerance()} — how far the store's notion of elapsed time may differ from what
 *       the test asked for (real waiting overshoots, the test's own steps take time, a server clock
 *       may have microsecond resolution). Zero (the default) makes every timing assertion exact to
 *       the nanosecond; a Redis backend might return 50–100 ms. Timing assertions are written so
 *       that a tolerance widens them but never lets an over-admission pass.
 *   <li>{@link #timeout()} — how long to wait for one decision's stage.
 *   <li>{@link #wallClock()} — the wall clock the store compares ban expiry with; {@link
 *       #advance(Duration)} must move it too (the memory store derives both from one
 *       {@code ManualClock}; a Redis backend uses real time for both).
 * </ul>
 *
 * <p>The abuse-control methods (refund, offences, bans, permits) are tested here too; keys are
 * unique per test so a shared server needs no flush.
 *
 * <p>The concurrency test (10 rounds of 16 threads × 50 decisions) uses a long period (one token
 * per 172.8 seconds) so that time passing during the test, frozen or not, adds no token: exactly
 * {@code burst} must be admitted in every round.
 */
public abstract class StoreContractTest {

  private static final Duration SECOND = Duration.ofSeconds(1);

  private Store store;

  /** A new store for one test; see the class javadoc. */
  protected abstract Store newStore();

  /** Lets at least {@code duration} pass for the store; see the class javadoc. */
  protected abstract void advance(Duration duration);

  /** Allowed imprecision of timing assertions; zero means exact. */
  protected Duration timingTolerance() {
    return Duration.ZERO;
  }

  /** How long one decision may take. */
  protected Duration timeout() {
    return Duration.ofSeconds(10);
  }

  /** The wall clock ban expiry is measured with; see the class javadoc. */
  protected InstantSource wallClock() {
    return InstantSource.system();
  }

  @BeforeEach
  void openStore() {
    store = newStore();
  }

  @AfterEach
  void closeStore() {
    if (store != null) {
      store.close();
    }
  }

  /** The store under test. */
  protected final Store store() {
    return store;
  }

  /** A key no other test (or earlier run against a shared server) uses. */
  protected BucketKey uniqueKey(String name) {
    return new BucketKey("contract-" + name + "-" + UUID.randomUUID(), "ip:192.0.2.1");
  }

  /** One decision, waited for; a failed stage fails the test with its cause. */
  protected Consumption consume(BucketKey key, BucketSpec spec, long cost) {
    try {
      return store.tryConsume(key, spec, cost).toCompletableFuture()
          .get(timeout().toNanos(), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("the store failed to decide", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    } catch (TimeoutException e) {
      throw new AssertionError("no decision within " + timeout(), e);
    }
  }

  protected static BucketSpec gcra(String... limits) {
    return new BucketSpec(Algorithm.GCRA, Stream.of(limits).map(LimitParser::parse).toList());
  }

  protected static BucketSpec slidingWindow(String... limits) {
    return new BucketSpec(
        Algorithm.SLIDING_WINDOW, Stream.of(limits).map(LimitParser::parse).toList());
  }

  private void assertNanosAbout(long actual, Duration expected) {
    long tolerance = timingTolerance().toNanos();
    assertThat(actual).isBetween(expected.toNanos() - tolerance, expected.toNanos() + tolerance);
  }

  @Test
  void tryConsume_upToBurst_allowedThenDenied() {
    BucketKey key = uniqueKey("burst");
    BucketSpec spec = gcra("5/minute burst 3");
    for (int i = 0; i < 3; i++) {
      Consumption allowed = consume(key, spec, 1);
      assertThat(allowed.allowed()).as("request %d", i).isTrue();
      assertThat(allowed.deniedLimit()).isEqualTo(-1);
      assertThat(allowed.retryAfterNanos()).isZero();
      assertThat(allowed.limits()).hasSize(1);
      assertThat(allowed.limits().get(0).remaining()).isEqualTo(2 - i);
    }

    Consumption denied = consume(key, spec, 1);

    assertThat(denied.allowed()).isFalse();
    assertThat(denied.deniedLimit()).isZero();
    assertNanosAbout(denied.retryAfterNanos(), Duration.ofSeconds(12));
    LimitStatus status = denied.limits().get(0);
    assertThat(status.remaining()).isZero();
    assertNanosAbout(status.nanosToNextToken(), Duration.ofSeconds(12));
    assertNanosAbout(status.nanosToFull(), Duration.ofSeconds(36));
  }

  @Test
  void tryConsume_retriedAfterRetryAfter_isAdmittedButNotBefore() {
    BucketKey key = uniqueKey("retry");
    BucketSpec spec = gcra("4/second");
    consume(key, spec, 4);
    Consumption denied = consume(key, spec, 1);
    assertThat(denied.allowed()).isFalse();
    Duration retry = Duration.ofNanos(denied.retryAfterNanos());
    Duration tolerance = timingTolerance();

    advance(retry.minus(tolerance).minusNanos(1));
    assertThat(consume(key, spec, 1).allowed()).as("just before retry-after").isFalse();
    advance(tolerance.plusNanos(1));
    assertThat(consume(key, spec, 1).allowed()).as("at retry-after").isTrue();
  }

  @Test
  void tryConsume_afterAPeriod_isRefilled() {
    BucketKey key = uniqueKey("refill");
    // 4/second: the interval (250ms) is exact, so a whole period refills the whole bucket. (With
    // 3/second the interval rounds up to 333,333,334ns and refilling takes 2ns longer.)
    BucketSpec spec = gcra("4/second");
    assertThat(consume(key, spec, 4).allowed()).isTrue();
    assertThat(consume(key, spec, 1).allowed()).isFalse();

    advance(SECOND);

    Consumption refilled = consume(key, spec, 4);
    assertThat(refilled.allowed()).isTrue();
    assertThat(consume(key, spec, 1).allowed()).isFalse();
  }

  @Test
  void tryConsume_oneOfSeveralLimitsDenies_consumesFromNone() {
    BucketKey key = uniqueKey("all-or-none");
    BucketSpec spec = gcra("10/minute", "2/hour");
    assertThat(consume(key, spec, 1).allowed()).isTrue();
    assertThat(consume(key, spec, 1).allowed()).isTrue();

    Consumption denied = consume(key, spec, 1);
    Consumption deniedAgain = consume(key, spec, 1);

    assertThat(denied.allowed()).isFalse();
    assertThat(denied.deniedLimit()).isEqualTo(1);
    assertNanosAbout(denied.retryAfterNanos(), Duration.ofMinutes(30));
    assertThat(denied.limits()).hasSize(2);
    assertThat(deniedAgain.limits().get(0).remaining()).as("first limit untouched").isEqualTo(8);
    assertThat(deniedAgain.limits().get(1).remaining()).isZero();
  }

  @Test
  void tryConsume_cost_consumesThatManyTokens() {
    BucketKey key = uniqueKey("cost");
    BucketSpec spec = gcra("10/hour");
    assertThat(consume(key, spec, 4).limits().get(0).remaining()).isEqualTo(6);
    assertThat(consume(key, spec, 4).limits().get(0).remaining()).isEqualTo(2);

    Consumption tooCostly = consume(key, spec, 4);

    assertThat(tooCostly.allowed()).isFalse();
    assertNanosAbout(tooCostly.retryAfterNanos(), Duration.ofMinutes(12));
    assertThat(tooCostly.limits().get(0).remaining()).isEqualTo(2);
    assertThat(consume(key, spec, 2).allowed()).isTrue();
  }

  @Test
  void tryConsume_slidingWindow_allowsNPerWindowWithoutBurst() {
    BucketKey key = uniqueKey("sliding");
    BucketSpec spec = slidingWindow("3/second burst 10");
    for (int i = 0; i < 3; i++) {
      assertThat(consume(key, spec, 1).allowed()).as("request %d", i).isTrue();
    }
    Consumption denied = consume(key, spec, 1);
    assertThat(denied.allowed()).isFalse();
    assertThat(denied.deniedLimit()).isZero();
    assertNanosAbout(denied.retryAfterNanos(), SECOND);
    assertThat(denied.limits().get(0).remaining()).isZero();

    advance(Duration.ofMillis(500));
    assertThat(consume(key, spec, 1).allowed()).as("half a window later").isFalse();
    advance(Duration.ofMillis(500).plus(timingTolerance()));
    assertThat(consume(key, spec, 3).allowed()).as("a window later").isTrue();
    assertThat(consume(key, spec, 1).allowed()).isFalse();
  }

  @Test
  void tryConsume_slidingWindowWithSeveralLimits_consumesFromNone() {
    BucketKey key = uniqueKey("sliding-all-or-none");
    BucketSpec spec = slidingWindow("5/second", "2/hour");
    consume(key, spec, 2);

    Consumption denied = consume(key, spec, 1);

    assertThat(denied.allowed()).isFalse();
    assertThat(denied.deniedLimit()).isEqualTo(1);
    assertThat(denied.limits().get(0).remaining()).isEqualTo(3);
  }

  @Test
  void tryConsume_distinctKeys_areIndependent() {
    BucketSpec spec = gcra("2/minute");
    BucketKey first = uniqueKey("first");
    BucketKey otherIdentity = new BucketKey(first.policy(), "ip:192.0.2.2");
    BucketKey otherPolicy = new BucketKey(first.policy() + "-other", first.identity());
    assertThat(consume(first, spec, 2).allowed()).isTrue();
    assertThat(consume(first, spec, 1).allowed()).isFalse();

    assertThat(consume(otherIdentity, spec, 2).allowed()).isTrue();
    assertThat(consume(otherPolicy, spec, 2).allowed()).isTrue();
    assertThat(consume(otherPolicy, spec, 1).allowed()).isFalse();
  }

  @Test
  void tryConsume_manyThreadsOnOneKey_admitExactlyTheBurst() throws Exception {
    // Several rounds on fresh keys, each a long contended phase (800 attempts for 500 tokens);
    // one token per 172.8s, so the time the test takes on a real clock adds none.
    BucketSpec spec = gcra("500/day");
    int rounds = 10;
    int threads = 16;
    int attemptsPerThread = 50;
    BucketKey[] keys = new BucketKey[rounds];
    AtomicInteger[] admitted = new AtomicInteger[rounds];
    for (int r = 0; r < rounds; r++) {
      keys[r] = uniqueKey("concurrent-" + r);
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
                    roundStart.await(timeout().toMillis(), TimeUnit.MILLISECONDS);
                    for (int i = 0; i < attemptsPerThread; i++) {
                      if (consume(keys[r], spec, 1).allowed()) {
                        admitted[r].incrementAndGet();
                      }
                    }
                  }
                } catch (Throwable e) {
                  failures.add(e);
                  roundStart.reset(); // release the others instead of letting them time out
                }
              },
              "store-contract-worker-" + t);
      workers[t].start();
    }
    for (Thread worker : workers) {
      worker.join(timeout().toMillis() * rounds * 2);
      assertThat(worker.isAlive()).as("%s finished", worker.getName()).isFalse();
    }
    rethrow(failures);

    for (int r = 0; r < rounds; r++) {
      assertThat(admitted[r].get()).as("round %d", r).isEqualTo(500);
    }
  }

  /** Fails the test with the first worker failure, the others attached as suppressed. */
  protected static void rethrow(Queue<Throwable> failures) {
    Throwable first = failures.poll();
    if (first == null) {
      return;
    }
    AssertionError error = new AssertionError("a worker thread failed", first);
    failures.forEach(error::addSuppressed);
    throw error;
  }

  /** Waits for any store stage; a failed stage fails the test with its cause. */
  protected <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(timeout().toNanos(), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("the store failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    } catch (TimeoutException e) {
      throw new AssertionError("no answer within " + timeout(), e);
    }
  }

  private String uniqueName(String name) {
    return "contract-" + name + "-" + UUID.randomUUID();
  }

  @Test
  void refund_gcraRightAfterAdmission_restoresTheBucketExactly() {
    BucketKey key = uniqueKey("refund-gcra");
    BucketSpec spec = gcra("5/minute", "100/hour");
    consume(key, spec, 2);
    Consumption before = consume(key, spec, 1);

    await(store.refund(key, spec, 1));
    await(store.refund(key, spec, 2));

    Consumption after = consume(key, spec, 3);
    assertThat(after.allowed()).isTrue();
    assertThat(after.limits().get(0).remaining()).isEqualTo(2);
    assertThat(after.limits().get(1).remaining()).isEqualTo(97);
    assertThat(before.limits().get(0).remaining()).isEqualTo(2);
  }

  @Test
  void refund_gcraAfterTimePassed_neverRaisesTheBucketAboveFull() {
    BucketKey key = uniqueKey("refund-gcra-full");
    BucketSpec spec = gcra("4/second");
    consume(key, spec, 1);
    advance(Duration.ofMillis(500));

    await(store.refund(key, spec, 1));

    // A full bucket stays full (4), never 5.
    assertThat(consume(key, spec, 4).allowed()).isTrue();
    assertThat(consume(key, spec, 1).allowed()).isFalse();
  }

  @Test
  void refund_gcraBetweenOtherAdmissions_givesBackExactlyTheCost() {
    BucketKey key = uniqueKey("refund-gcra-between");
    BucketSpec spec = gcra("10/hour");
    consume(key, spec, 3); // the reservation to undo
    consume(key, spec, 4); // another request, kept

    await(store.refund(key, spec, 3));

    Consumption next = consume(key, spec, 1);
    assertThat(next.limits().get(0).remaining()).isEqualTo(5);
  }

  @Test
  void refund_slidingWindow_removesTheNewestEntries() {
    BucketKey key = uniqueKey("refund-sliding");
    BucketSpec spec = slidingWindow("3/second");
    consume(key, spec, 1);
    advance(Duration.ofMillis(300));
    consume(key, spec, 2);

    await(store.refund(key, spec, 2));

    Consumption next = consume(key, spec, 2);
    assertThat(next.allowed()).isTrue();
    assertThat(next.limits().get(0).remaining()).isZero();
    // The first entry (300ms older) is the one that frees a token first.
    Consumption denied = consume(key, spec, 1);
    assertThat(denied.allowed()).isFalse();
    assertNanosAbout(denied.retryAfterNanos(), Duration.ofMillis(700));
  }

  @Test
  void refund_unknownBucket_isANoOp() {
    BucketKey key = uniqueKey("refund-unknown");
    BucketSpec spec = gcra("2/minute");

    await(store.refund(key, spec, 1));

    assertThat(consume(key, spec, 2).allowed()).isTrue();
    assertThat(consume(key, spec, 1).allowed()).isFalse();
  }

  @Test
  void recordOffence_countsWithinTheWindowOnly() {
    // Sub-second steps so a backend that really waits stays near a second; the second offence
    // stays 200ms inside the window, more than any tolerance a backend declares.
    String key = uniqueName("offence");
    long window = Duration.ofMillis(600).toNanos();
    assertThat(await(store.recordOffence(key, window))).isEqualTo(1);
    advance(Duration.ofMillis(200));
    assertThat(await(store.recordOffence(key, window))).isEqualTo(2);
    assertThat(await(store.recordOffence(uniqueName("other"), window))).as("another key").isEqualTo(1);

    advance(Duration.ofMillis(400).plus(timingTolerance()));

    // The first offence (600ms old) left the window; the second (400ms old) and this one remain.
    assertThat(await(store.recordOffence(key, window))).isEqualTo(2);
    advance(Duration.ofMillis(600).plus(timingTolerance()));
    assertThat(await(store.recordOffence(key, window))).isEqualTo(1);
  }

  @Test
  void forgetBucket_emptiedBucket_isFullAgainForEveryLimitAndOtherKeysKeepTheirState() {
    BucketKey key = uniqueKey("forget");
    BucketKey other = new BucketKey(key.policy(), "ip:192.0.2.2");
    BucketSpec spec = gcra("2/hour", "3/day");
    BucketSpec window = slidingWindow("2/hour");
    BucketKey windowKey = uniqueKey("forget-window");
    consume(key, spec, 2);
    consume(other, spec, 2);
    consume(windowKey, window, 2);
    assertThat(consume(key, spec, 1).allowed()).isFalse();

    await(store.forgetBucket(key, spec));
    await(store.forgetBucket(windowKey, window));

    assertThat(consume(key, spec, 2).allowed()).as("full again").isTrue();
    assertThat(consume(key, spec, 1).allowed()).as("no more than full").isFalse();
    assertThat(consume(windowKey, window, 2).allowed()).isTrue();
    assertThat(consume(other, spec, 1).allowed()).as("another identity keeps its state").isFalse();
  }

  @Test
  void forgetBucket_unknownBucket_isANoOp() {
    BucketKey key = uniqueKey("forget-unknown");
    BucketSpec spec = gcra("1/hour");

    await(store.forgetBucket(key, spec));

    assertThat(consume(key, spec, 1).allowed()).isTrue();
    assertThat(consume(key, spec, 1).allowed()).isFalse();
  }

  @Test
  void forgetOffences_nextOffenceCountsOneAgain_otherKeysKeepCounting() {
    String key = uniqueName("forget-offences");
    String other = uniqueName("forget-offences-other");
    long window = Duration.ofHours(1).toNanos();
    await(store.recordOffence(key, window));
    await(store.recordOffence(key, window));
    await(store.recordOffence(other, window));

    await(store.forgetOffences(key));
    await(store.forgetOffences(uniqueName("never-offended")));

    assertThat(await(store.recordOffence(key, window))).isEqualTo(1);
    assertThat(await(store.recordOffence(other, window))).isEqualTo(2);
  }

  @Test
  void bans_putListRemove_roundTrip() {
    String scope = uniqueName("ban");
    long expires = wallClock().millis() + 60_000;
    Ban ban = Ban.of(scope, "ip:192.0.2.1", expires, "test ban");
    Ban other = Ban.of(Ban.ALL_POLICIES, "ip:" + scope, expires, "test ban");

    await(store.putBan(ban));
    await(store.putBan(other));

    assertThat(await(store.listBans())).contains(ban, other);
    assertThat(await(store.removeBan(ban.id()))).isTrue();
    assertThat(await(store.removeBan(ban.id()))).as("already removed").isFalse();
    List<Ban> left = await(store.listBans());
    assertThat(left).contains(other).doesNotContain(ban);
    await(store.removeBan(other.id()));
  }

  @Test
  void putBan_sameScopeAndIdentity_replacesTheBan() {
    String scope = uniqueName("reban");
    long now = wallClock().millis();
    Ban first = Ban.of(scope, "ip:192.0.2.1", now + 60_000, "first");
    Ban second = Ban.of(scope, "ip:192.0.2.1", now + 120_000, "second");
    await(store.putBan(first));

    await(store.putBan(second));

    List<Ban> mine = await(store.listBans()).stream().filter(b -> b.scope().equals(scope)).toList();
    assertThat(mine).containsExactly(second);
    await(store.removeBan(second.id()));
  }

  @Test
  void listBans_expiredBan_isNotListed() {
    String scope = uniqueName("expiry");
    Ban ban = Ban.of(scope, "ip:192.0.2.1", wallClock().millis() + 1_000, "short");
    await(store.putBan(ban));
    assertThat(await(store.listBans())).contains(ban);

    advance(Duration.ofMillis(1_000).plus(timingTolerance()));

    assertThat(await(store.listBans())).doesNotContain(ban);
    assertThat(await(store.removeBan(ban.id()))).as("an expired ban is not removed").isFalse();
  }

  @Test
  void acquirePermit_upToMax_thenRefusedUntilReleased() {
    String key = uniqueName("permit");
    long lease = Duration.ofMinutes(5).toNanos();
    assertThat(await(store.acquirePermit(key, 2, lease))).isTrue();
    assertThat(await(store.acquirePermit(key, 2, lease))).isTrue();
    assertThat(await(store.acquirePermit(key, 2, lease))).isFalse();
    assertThat(await(store.acquirePermit(uniqueName("other"), 2, lease))).as("another key").isTrue();

    await(store.releasePermit(key));

    assertThat(await(store.acquirePermit(key, 2, lease))).isTrue();
    assertThat(await(store.acquirePermit(key, 2, lease))).isFalse();
  }

  @Test
  void acquirePermit_leaseEnded_permitIsFreed() {
    String key = uniqueName("lease");
    long lease = Duration.ofMillis(500).toNanos();
    assertThat(await(store.acquirePermit(key, 1, lease))).isTrue();
    assertThat(await(store.acquirePermit(key, 1, lease))).isFalse();

    advance(Duration.ofMillis(500).plus(timingTolerance()));

    assertThat(await(store.acquirePermit(key, 1, lease))).isTrue();
  }

  @Test
  void releasePermit_withNoneHeld_doesNotCreditExtraPermits() {
    String key = uniqueName("over-release");
    long lease = Duration.ofMinutes(5).toNanos();
    await(store.releasePermit(key));
    await(store.releasePermit(key));

    assertThat(await(store.acquirePermit(key, 1, lease))).isTrue();
    assertThat(await(store.acquirePermit(key, 1, lease))).isFalse();
  }

  @Test
  void ping_answeringStore_completesNormally() throws Exception {
    assertThat(store.ping().toCompletableFuture().get(timeout().toMillis(), TimeUnit.MILLISECONDS))
        .isNull();
  }
}
