package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.Limit;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.StoreException;
import dev.sluice.testkit.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SPEC §3 failure handling against a real redis-server that the test kills, restarts, freezes
 * (SIGSTOP) and thaws (SIGCONT): fail fast with a StoreException, at most one wait per probe
 * interval, automatic recovery, and no late reply ever turned into an admission.
 */
class RedisStoreFailureTest {

  private static final Duration TIMEOUT = Duration.ofMillis(250);
  private static final Duration PROBE = Duration.ofMillis(400);
  private static final BucketKey KEY = new BucketKey("login", "ip:198.51.100.9");

  private RedisServer redis;
  private RedisStore store;

  @BeforeEach
  void start() {
    redis = RedisServer.start();
    store = RedisStore.connect(new RedisStoreOptions(List.of(redis.uri()), TIMEOUT, PROBE));
  }

  @AfterEach
  void stop() {
    if (store != null) {
      store.close();
    }
    if (redis != null) {
      redis.stop(); // resumes a paused server first
    }
  }

  /** What one call did: answered, failed after asking Redis, or failed fast on the open circuit. */
  private enum Outcome { ADMITTED, DENIED, FAILED_ASKING, FAILED_FAST }

  private Outcome call(BucketSpec spec) {
    CompletableFuture<Consumption> future = store.tryConsume(KEY, spec, 1).toCompletableFuture();
    try {
      Consumption c = future.get(10, TimeUnit.SECONDS);
      return c.allowed() ? Outcome.ADMITTED : Outcome.DENIED;
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(StoreException.class);
      return e.getCause().getMessage().startsWith("redis store unavailable (circuit open after: ")
          ? Outcome.FAILED_FAST : Outcome.FAILED_ASKING;
    } catch (Exception e) {
      throw new AssertionError("the store must complete every call by itself within its timeout", e);
    }
  }

  @Test
  void killedRedis_callsFailFastBehindOpenCircuit_andRecoverAfterRestart() {
    BucketSpec spec = new BucketSpec(Algorithm.GCRA, List.of(Limit.of(1000, Duration.ofHours(1))));
    assertThat(call(spec)).isEqualTo(Outcome.ADMITTED);

    redis.kill();
    int asked = 0;
    int fast = 0;
    long started = System.nanoTime();
    while (System.nanoTime() - started < Duration.ofMillis(1500).toNanos()) {
      Outcome outcome = call(spec);
      assertThat(outcome).isIn(Outcome.FAILED_ASKING, Outcome.FAILED_FAST);
      if (outcome == Outcome.FAILED_FAST) {
        fast++;
      } else {
        asked++;
      }
    }
    long elapsed = System.nanoTime() - started;

    // Without the breaker every call would ask; with it, one call per probe interval does.
    assertThat(asked).isBetween(1, (int) (elapsed / PROBE.toNanos()) + 2);
    assertThat(fast).isGreaterThan(asked * 10);
    assertThat(store.circuitOpen()).isTrue();
    assertThat(store.ping().toCompletableFuture()).failsWithin(Duration.ofSeconds(1));

    redis.restart(); // same port, empty
    long restarted = System.nanoTime();
    await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20))
        .until(() -> call(spec) == Outcome.ADMITTED);
    assertThat(Duration.ofNanos(System.nanoTime() - restarted)).isLessThan(Duration.ofSeconds(2));
    assertThat(store.circuitOpen()).isFalse();
    assertThat(store.ping().toCompletableFuture()).succeedsWithin(Duration.ofSeconds(1));
  }

  @Test
  void frozenRedis_costsOneTimeoutPerProbeInterval_andLateRepliesNeverAdmit() {
    BucketSpec spec = new BucketSpec(Algorithm.GCRA, List.of(Limit.of(5, Duration.ofHours(1))));
    int admitted = 0;
    for (int i = 0; i < 3; i++) {
      assertThat(call(spec)).isEqualTo(Outcome.ADMITTED);
      admitted++;
    }
    long callsBefore = evalCalls();

    redis.pause();
    int asked = 0;
    int calls = 0;
    long started = System.nanoTime();
    while (System.nanoTime() - started < Duration.ofMillis(1500).toNanos()) {
      Outcome outcome = call(spec);
      assertThat(outcome).isIn(Outcome.FAILED_ASKING, Outcome.FAILED_FAST);
      asked += outcome == Outcome.FAILED_ASKING ? 1 : 0;
      calls++;
    }
    long elapsed = System.nanoTime() - started;
    int waves = (int) (elapsed / PROBE.toNanos()) + 2;
    assertThat(asked).as("calls that waited for the timeout").isBetween(1, waves);
    // Without the breaker, `calls` timeouts of 250 ms each could not fit in 1.5 s.
    assertThat(calls).isGreaterThan(asked * 10);

    redis.resume();
    await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20))
        .until(() -> !store.circuitOpen() || call(spec) != Outcome.FAILED_FAST);
    for (int i = 0; i < 10; i++) {
      Outcome outcome = call(spec);
      if (outcome == Outcome.ADMITTED) {
        admitted++;
      }
    }

    // The frozen server ran the queued scripts after SIGCONT, consuming tokens for callers that
    // had already given up: those replies were dropped, so admissions never exceed the limit.
    assertThat(admitted).isLessThanOrEqualTo(5);
    long sentWhileFrozen = evalCalls() - callsBefore;
    assertThat(sentWhileFrozen).as("scripts sent to the frozen server (bounded queue)")
        .isLessThanOrEqualTo(waves + 10);
  }

  @Test
  void decisionInFlightWhenConnectionDrops_isNotReplayedAfterReconnect() {
    BucketSpec spec = new BucketSpec(Algorithm.GCRA, List.of(Limit.of(5, Duration.ofHours(1))));
    try (RedisStore patient = RedisStore.connect(
        new RedisStoreOptions(List.of(redis.uri()), Duration.ofSeconds(4), PROBE))) {
      assertThat(patient.ping().toCompletableFuture()).succeedsWithin(Duration.ofSeconds(5));
      redis.pause();
      // Several: Lettuce fails the oldest unanswered command with the connection's I/O error
      // anyway; the others are the ones a replay would re-send.
      List<CompletableFuture<Consumption>> inFlight = new java.util.ArrayList<>();
      for (int i = 0; i < 3; i++) {
        inFlight.add(patient.tryConsume(new BucketKey("replay", "ip:192.0.2." + i), spec, 1).toCompletableFuture());
      }

      redis.kill(); // the frozen server dies with the request unread: the connection drops
      redis.restart(); // a fresh, empty server on the same port; Lettuce reconnects to it

      // Replaying the request on the new server would create the bucket and admit it: a decision
      // applied after its connection died. Instead the caller gets an error and Redis stays empty.
      for (CompletableFuture<Consumption> decision : inFlight) {
        assertThat(decision).failsWithin(Duration.ofSeconds(6))
            .withThrowableOfType(ExecutionException.class)
            .withCauseInstanceOf(StoreException.class);
      }
      await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(20))
          .until(() -> patient.ping().toCompletableFuture().handle((v, e) -> e == null).get());
      assertThat(redis.dbSize()).as("keys on the new server").isZero();
    }
  }

  private long evalCalls() {
    String stats = redis.call("INFO", "commandstats");
    long total = 0;
    for (String line : stats.split("\r?\n")) {
      if (line.startsWith("cmdstat_evalsha:") || line.startsWith("cmdstat_eval:")) {
        String calls = line.substring(line.indexOf("calls=") + 6);
        total += Long.parseLong(calls.substring(0, calls.indexOf(',')));
      }
    }
    return total;
  }
}
