package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.Limit;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.ManualClock;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

/**
 * {@link RefusalCache#refusal} against the memory store (the reference GCRA) with an injected
 * clock: from the debts of any refusal, after any elapsed time and for any cost, the local answer
 * is the memory store's refusal to the nanosecond, and null exactly when the memory store admits.
 */
class RefusalCacheProperties {

  private static final List<BucketSpec> SPECS = List.of(
      new BucketSpec(Algorithm.GCRA, List.of(Limit.of(7, Duration.ofSeconds(1)))),
      new BucketSpec(Algorithm.GCRA, List.of(
          new Limit(10, Duration.ofSeconds(2).toNanos(), 20, "10/2 seconds burst 20"),
          Limit.of(30, Duration.ofSeconds(10)))),
      new BucketSpec(Algorithm.GCRA, List.of(Limit.of(3, Duration.ofMillis(300)), Limit.of(13, Duration.ofSeconds(3)),
          new Limit(2, Duration.ofMillis(100).toNanos(), 3, "2/100ms burst 3"))));

  @Property(tries = 3000)
  void localRefusal_equalsMemoryStore(
      @ForAll @IntRange(min = 0, max = 2) int which,
      @ForAll @Size(min = 1, max = 40) List<@IntRange(min = 0, max = 30_000) Integer> stepsMicros,
      @ForAll @IntRange(min = 1, max = 3) int cost,
      @ForAll @LongRange(min = 0, max = 400_000_000) long elapsed,
      @ForAll @IntRange(min = 1, max = 3) int laterCost) {
    BucketSpec spec = SPECS.get(which);
    BucketKey key = new BucketKey("p", "ip:1");
    ManualClock clock = new ManualClock(1_000_000_000_000L);
    MemoryStore memory = new MemoryStore(clock, 100);
    Consumption refused = null;
    for (int micros : stepsMicros) {
      clock.advance(micros * 1000L);
      Consumption c = memory.tryConsume(key, spec, cost).toCompletableFuture().join();
      if (!c.allowed()) {
        refused = c; // what Redis would reply, and the cache keep
        break;
      }
    }
    if (refused == null) {
      return; // the schedule never refused: nothing to cache
    }
    long[] debts = new long[spec.limits().size()];
    for (int i = 0; i < debts.length; i++) {
      debts[i] = refused.limit(i).nanosToFull();
    }
    clock.advance(elapsed);
    Consumption expected = memory.tryConsume(key, spec, laterCost).toCompletableFuture().join();
    Consumption local = RefusalCache.refusal(spec, laterCost, debts, elapsed);
    if (expected.allowed()) {
      assertThat(local).isNull();
    } else {
      assertThat(local).isEqualTo(expected);
    }
  }
}
