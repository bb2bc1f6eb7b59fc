package dev.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.event.DecisionListener;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.limit.LimitParser;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.Clock;
import dev.sluice.time.ManualClock;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Which decisions the engine times for its listener ({@code Engine.Builder.timeOneIn}). */
class DecisionTimingTest {
  private static final int DECISIONS = 16_000;

  /** A clock that counts its readings and advances 1 µs at each. */
  private final AtomicLong reads = new AtomicLong();
  private final Clock clock = () -> reads.incrementAndGet() * 1_000;
  private final AtomicLong timed = new AtomicLong();
  private final AtomicLong untimed = new AtomicLong();
  private final AtomicLong other = new AtomicLong();
  private final DecisionListener listener = (request, decision, nanos) -> {
    if (nanos == DecisionListener.NOT_TIMED) {
      untimed.incrementAndGet();
    } else if (nanos > 0) {
      timed.incrementAndGet();
    } else {
      other.incrementAndGet();
    }
  };

  private static PolicySet policies(String limit) {
    return PolicySet.builder()
        .identity(IdentityResolver.builder().build())
        .policy(Policy.builder("api").paths(List.of("/api/**")).limits(List.of(LimitParser.parse(limit))).build())
        .build();
  }

  private Engine.Builder engine() {
    return Engine.builder().policies(policies("1000000/second")).store(new MemoryStore(new ManualClock()))
        .clock(clock).listener(listener);
  }

  /** Half through {@code decideNow} (the gateway's path), half through {@code decide}. */
  private static void decideMany(Engine engine) {
    for (int i = 0; i < DECISIONS; i++) {
      TestRequest request = TestRequest.get("/api/x").from("198.51.100." + (i % 200));
      if (i % 2 == 0) {
        assertThat(engine.decideNow(request)).isNotNull();
      } else {
        assertThat(engine.decide(request).toCompletableFuture().join()).isNotNull();
      }
    }
  }

  @Test
  void timeOneIn_default_timesEveryDecision() {
    decideMany(engine().build());

    assertThat(timed.get()).isEqualTo(DECISIONS);
    assertThat(untimed.get()).isZero();
    assertThat(other.get()).isZero();
    assertThat(reads.get()).isEqualTo(2L * DECISIONS);
  }

  @Test
  void timeOneIn_16_timesAboutOneDecisionIn16_andReadsNoClockForTheOthers() {
    decideMany(engine().timeOneIn(16).build());

    // Binomial(16000, 1/16): mean 1000, standard deviation 30.6; the bounds are 4.9 deviations.
    assertThat(timed.get()).isBetween(850L, 1150L);
    assertThat(timed.get() + untimed.get()).as("the listener still sees every decision").isEqualTo(DECISIONS);
    assertThat(other.get()).isZero();
    assertThat(reads.get()).as("two clock readings per timed decision, none otherwise").isEqualTo(2 * timed.get());
  }

  @Test
  void timeOneIn_carriesOverAReload() {
    Engine engine = engine().timeOneIn(16).build();
    engine.reload(policies("900000/second"));

    decideMany(engine);

    assertThat(timed.get()).isBetween(850L, 1150L);
    assertThat(timed.get() + untimed.get()).isEqualTo(DECISIONS);
  }

  @Test
  void timeOneIn_noListener_readsNoClock() {
    Engine engine = Engine.builder().policies(policies("1000000/second")).store(new MemoryStore(new ManualClock()))
        .clock(clock).timeOneIn(1).build();

    decideMany(engine);

    assertThat(reads.get()).isZero();
  }

  @Test
  void timeOneIn_zero_isRejected() {
    assertThatThrownBy(() -> Engine.builder().timeOneIn(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("timing sample one in 0 is not allowed; expected 1 (every decision) or more");
  }
}
