package dev.sluice.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.algorithm.Gcra;
import dev.sluice.engine.Engine;
import dev.sluice.engine.Outcome;
import dev.sluice.limit.Limit;
import dev.sluice.request.RequestView;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.MemoryStore;
import org.junit.jupiter.api.Test;

/**
 * A benchmark that measures the wrong path is a defect that no number reveals: these tests pin
 * that every "allowed" fixture admits and every "rejected" fixture denies, repeatedly.
 */
class FixturesTest {

  @Test
  void engine_allowedPathHotKey_admitsEveryDecision() {
    Engine engine = Fixtures.engine(true, Fixtures.HOT_PER_SECOND);
    RequestView request = Fixtures.request(Fixtures.address(7));
    for (int i = 0; i < 1_000; i++) {
      assertThat(Fixtures.decide(engine, request)).isEqualTo(Outcome.ALLOWED);
    }
  }

  @Test
  void engine_allowedPathRandomKeys_admitsOneBurstPerKey() {
    // Each random key sees far fewer calls than its burst between refills.
    Engine engine = Fixtures.engine(true, Fixtures.RANDOM_PER_SECOND);
    RequestView request = Fixtures.request(Fixtures.address(7));
    for (int i = 0; i < Fixtures.RANDOM_PER_SECOND; i++) {
      assertThat(Fixtures.decide(engine, request)).isEqualTo(Outcome.ALLOWED);
    }
  }

  @Test
  void engine_rejectedPath_deniesAfterFirstDecision() {
    Engine engine = Fixtures.engine(false, Fixtures.RANDOM_PER_SECOND);
    RequestView request = Fixtures.request(Fixtures.address(7));
    assertThat(Fixtures.decide(engine, request)).isEqualTo(Outcome.ALLOWED);
    for (int i = 0; i < 1_000; i++) {
      assertThat(Fixtures.decide(engine, request)).isEqualTo(Outcome.LIMITED);
    }
  }

  @Test
  void store_eachPath_matchesItsName() {
    MemoryStore store = Fixtures.store();
    BucketSpec allowed = Fixtures.spec(true, Fixtures.HOT_PER_SECOND);
    BucketSpec rejected = Fixtures.spec(false, Fixtures.HOT_PER_SECOND);
    Fixtures.consumeFirst(store, Fixtures.bucketKey(1), allowed);
    Fixtures.consumeFirst(store, Fixtures.bucketKey(2), rejected);
    for (int i = 0; i < 1_000; i++) {
      assertThat(store.tryConsumeNow(Fixtures.bucketKey(1), allowed, 1).allowed()).isTrue();
      assertThat(store.tryConsumeNow(Fixtures.bucketKey(2), rejected, 1).allowed()).isFalse();
    }
  }

  @Test
  void store_bucketKey_isTheOneTheEngineUses() {
    MemoryStore store = Fixtures.store();
    BucketSpec rejected = Fixtures.spec(false, Fixtures.RANDOM_PER_SECOND);
    Fixtures.consumeFirst(store, Fixtures.bucketKey(7), rejected);
    Engine engine = Engine.builder()
        .policies(Fixtures.engine(false, Fixtures.RANDOM_PER_SECOND).policies())
        .store(store)
        .build();

    assertThat(Fixtures.decide(engine, Fixtures.request(Fixtures.address(7))))
        .as("the engine finds the bucket the store fixture drained").isEqualTo(Outcome.LIMITED);
  }

  @Test
  void gcraStep_eachPath_matchesItsName() {
    Limit allowed = Fixtures.sluiceLimit(true, Fixtures.HOT_PER_SECOND);
    Limit rejected = Fixtures.sluiceLimit(false, Fixtures.HOT_PER_SECOND);
    long origin = System.nanoTime();
    long tatAllowed = Gcra.FRESH;
    long tatRejected = Gcra.step(Gcra.FRESH, 0, 1, rejected).newTat();
    for (int i = 0; i < 1_000; i++) {
      long now = System.nanoTime() - origin;
      Gcra.Step a = Gcra.step(tatAllowed, now, 1, allowed);
      tatAllowed = a.newTat();
      assertThat(a.allowed()).isTrue();
      assertThat(Gcra.step(tatRejected, now, 1, rejected).allowed()).isFalse();
    }
  }

  @Test
  void peers_eachPath_matchesItsName() {
    long hot = Fixtures.HOT_PER_SECOND;
    var bucketAllowed = Fixtures.bucket4j(true, hot);
    var bucketRejected = Fixtures.bucket4j(false, hot);
    var guavaAllowed = Fixtures.guava(true, hot);
    var guavaRejected = Fixtures.guava(false, hot);
    var r4jAllowed = Fixtures.resilience4j("a", true, hot);
    var r4jRejected = Fixtures.resilience4j("r", false, hot);
    for (int i = 0; i < 1_000; i++) {
      assertThat(bucketAllowed.tryConsume(1)).isTrue();
      assertThat(bucketRejected.tryConsume(1)).isFalse();
      assertThat(guavaAllowed.tryAcquire()).isTrue();
      assertThat(guavaRejected.tryAcquire()).isFalse();
      assertThat(r4jAllowed.acquirePermission()).isTrue();
      assertThat(r4jRejected.acquirePermission()).isFalse();
    }
  }

  @Test
  void peers_randomKeyRate_admitWholeBurst() {
    long rate = Fixtures.RANDOM_PER_SECOND;
    var bucket = Fixtures.bucket4j(true, rate);
    var r4j = Fixtures.resilience4j("k", true, rate);
    for (int i = 0; i < rate; i++) {
      assertThat(bucket.tryConsume(1)).isTrue();
      assertThat(r4j.acquirePermission()).isTrue();
    }
    // Guava admits the first call at once and then spaces calls 1/rate apart (no stored burst
    // on a fresh limiter); random keys are far apart, so this is the case that matters.
    assertThat(Fixtures.guava(true, rate).tryAcquire()).isTrue();
  }

  @Test
  void identityKey_anyIndex_matchesAddressText() {
    assertThat(Fixtures.identityKey(0x01_02_03)).isEqualTo("ip:10.1.2.3");
    assertThat(Fixtures.address(0x01_02_03).getHostAddress()).isEqualTo("10.1.2.3");
  }

  @Test
  void allowedPath_unknownName_isRejectedWithTheValue() {
    assertThatThrownBy(() -> Fixtures.allowedPath("both"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("benchmark path must be \"allowed\" or \"rejected\", got \"both\"");
  }
}
