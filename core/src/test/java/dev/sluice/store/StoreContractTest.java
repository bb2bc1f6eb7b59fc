package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.LimitParser;
import java.time.Duration;
import java.util.Queue;
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
 * </ul>
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

  @Test
  void ping_answeringStore_completesNormally() throws Exception {
    assertThat(store.ping().toCompletableFuture().get(timeout().toMillis(), TimeUnit.MILLISECONDS))
        .isNull();
  }
}
