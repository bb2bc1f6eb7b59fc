package dev.sluice.store.redis;

import dev.sluice.store.Store;
import dev.sluice.store.StoreContractTest;
import dev.sluice.testkit.RedisServer;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The store contract on a real redis-server, with the server's clock.
 *
 * <p>Time: the script reads the server's {@code TIME} as in production; {@link #advance(Duration)}
 * only shifts it forward by an offset the test seam adds ("plus" mode of {@code decide.lua}), so
 * the suite needs no sleeping and stays fast. Because the shifted clock still runs at real speed,
 * the store sees a little more time than the test asked for (the test's own steps, ~ms); the
 * {@link #timingTolerance()} covers that, and key expiry (real time) can only ever happen after
 * the shifted clock says the bucket is full. Ban expiry is compared with the same shifted server
 * clock, so the suite's wall clock is this machine's (the server's) plus the same offset.
 */
class RedisStoreContractTest extends StoreContractTest {

  private static RedisServer redis;
  private final AtomicLong offsetNanos = new AtomicLong();

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

  @Override
  protected Store newStore() {
    return RedisStore.connect(RedisStoreOptions.of(List.of(redis.uri()), Duration.ofSeconds(5)),
        new DecisionScript.TestTime(offsetNanos::get, true));
  }

  @Override
  protected void advance(Duration duration) {
    // The suite may ask for "retry-after minus tolerance", below zero for short retries; the
    // server clock cannot go back, and real time already moved forward anyway.
    offsetNanos.addAndGet(Math.max(0, duration.toNanos()));
  }

  /** Real wall time plus the offset {@link #advance(Duration)} adds: what the scripts see. */
  @Override
  protected InstantSource wallClock() {
    return () -> Instant.now().plusNanos(offsetNanos.get());
  }

  /**
   * Real time the test's own steps take between a decision and the next (a round trip is ~1 ms;
   * the rest is headroom for a loaded machine). It must stay below the suite's shortest
   * retry-after (250 ms) for "denied just before retry-after" to mean anything.
   */
  @Override
  protected Duration timingTolerance() {
    return Duration.ofMillis(150);
  }
}
