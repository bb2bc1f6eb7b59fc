package dev.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.ManualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The shared fast path of {@link Engine#decideNow} answers exactly as {@link Engine#decide} does:
 * two engines over two memory stores on two manual clocks see the same requests at the same times;
 * every outcome, retry-after and rate-limit number read right after the decision is the same, and a
 * {@link Decision#snapshot()} keeps its numbers while later decisions move the bucket.
 */
class DecideNowProperties {
  private static final IdentitySpec IP = new IdentitySpec(IdentityKind.IP, null);
  private static final String[] PATHS = {"/api/a", "/api/b", "/multi/x", "/free"};

  record Step(int client, int path, long advanceMillis) {}

  record Limits(long burst, long periodSeconds, long second, long secondPeriodSeconds) {}

  @Provide
  Arbitrary<List<Step>> steps() {
    return Combinators.combine(Arbitraries.integers().between(0, 3), Arbitraries.integers().between(0, 3),
            Arbitraries.longs().between(0, 1500).injectDuplicates(0.3))
        .as(Step::new).list().ofMinSize(1).ofMaxSize(60);
  }

  @Provide
  Arbitrary<Limits> limits() {
    return Combinators.combine(Arbitraries.longs().between(1, 4), Arbitraries.longs().between(1, 5),
        Arbitraries.longs().between(1, 6), Arbitraries.longs().between(1, 20)).as(Limits::new);
  }

  @Property(tries = 300)
  void decideNowAnswersAsDecideDoes(@ForAll("steps") List<Step> steps, @ForAll("limits") Limits limits) {
    ManualClock fastClock = new ManualClock();
    ManualClock slowClock = new ManualClock();
    Engine fast = engine(fastClock, limits);
    Engine slow = engine(slowClock, limits);
    List<Decision> kept = new ArrayList<>();
    List<Decision> reference = new ArrayList<>();
    for (Step step : steps) {
      fastClock.advance(Duration.ofMillis(step.advanceMillis()));
      slowClock.advance(Duration.ofMillis(step.advanceMillis()));
      TestRequest request = TestRequest.get(PATHS[step.path()]).from("192.0.2." + (10 + step.client()));
      Decision a = fast.decideNow(request);
      Decision b = slow.decide(request).toCompletableFuture().join();
      assertSame(a, b);
      kept.add(a.snapshot());
      reference.add(b);
    }
    for (int i = 0; i < kept.size(); i++) {
      assertSame(kept.get(i), reference.get(i)); // snapshots did not move with later decisions
    }
  }

  private static void assertSame(Decision a, Decision b) {
    assertThat(a.outcome()).isEqualTo(b.outcome());
    assertThat(a.retryAfterSeconds()).isEqualTo(b.retryAfterSeconds());
    assertThat(a.client().client()).isEqualTo(b.client().client());
    assertThat(a.policies()).hasSameSizeAs(b.policies());
    for (int i = 0; i < a.policies().size(); i++) {
      PolicyDecision x = a.policies().get(i);
      PolicyDecision y = b.policies().get(i);
      assertThat(x.policy().name()).isEqualTo(y.policy().name());
      assertThat(x.identity().key()).isEqualTo(y.identity().key());
      assertThat(x.allowed()).isEqualTo(y.allowed());
      assertThat(x.limitIndex()).isEqualTo(y.limitIndex());
      assertThat(x.retryAfterNanos()).isEqualTo(y.retryAfterNanos());
      assertThat(x.limitStatus()).isEqualTo(y.limitStatus());
      assertThat(x.consumption()).isEqualTo(y.consumption());
    }
    assertThat(a.mostRestrictive().map(PolicyDecision::itemName))
        .isEqualTo(b.mostRestrictive().map(PolicyDecision::itemName));
  }

  private static Engine engine(ManualClock clock, Limits limits) {
    Policy api = Policy.builder("api").paths(List.of("/api/**")).by(List.of(IP))
        .limits(List.of(Limit.of(limits.burst(), Duration.ofSeconds(limits.periodSeconds())))).build();
    Policy multi = Policy.builder("multi").paths(List.of("/multi/**")).by(List.of(IP))
        .limits(List.of(Limit.of(limits.burst(), Duration.ofSeconds(limits.periodSeconds())),
            Limit.of(limits.second(), Duration.ofMinutes(limits.secondPeriodSeconds()))))
        .build();
    PolicySet set = PolicySet.builder().identity(IdentityResolver.builder().build())
        .policy(api).policy(multi).build();
    return Engine.builder().policies(set).store(new MemoryStore(clock, MemoryStore.DEFAULT_MAX_KEYS))
        .clock(clock).build();
  }
}
