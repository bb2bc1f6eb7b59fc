package dev.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.limit.Limit;
import dev.sluice.policy.Mode;
import dev.sluice.policy.OnError;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.LimitStatus;
import dev.sluice.store.Store;
import dev.sluice.store.StoreException;
import dev.sluice.time.ManualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** How policy answers combine into a request outcome, for any mix of modes, on_error and store behaviour. */
class EngineProperties {

  enum Answer { ALLOW, DENY, FAIL, THROW, NULL }

  record Case(Mode mode, OnError override, Answer answer, long retryAfterNanos, long remaining) {}

  @Provide
  Arbitrary<List<Case>> cases() {
    Arbitrary<Case> one = Combinators.combine(
            Arbitraries.of(Mode.class),
            Arbitraries.of(OnError.class).injectNull(0.34),
            Arbitraries.of(Answer.class),
            Arbitraries.longs().between(1, 10_000_000_000L),
            Arbitraries.longs().between(0, 9))
        .as(Case::new);
    return one.list().ofMinSize(1).ofMaxSize(5);
  }

  @Property(tries = 300)
  void decide_anyAnswers_completesNormallyAndCombinesByTheRules(
      @ForAll("cases") List<Case> cases, @ForAll OnError setDefault) {
    Map<String, Case> byName = new HashMap<>();
    PolicySet.Builder set = PolicySet.builder().onError(setDefault);
    for (int i = 0; i < cases.size(); i++) {
      Case c = cases.get(i);
      Policy.Builder policy = Policy.builder("p" + i).paths(List.of("/x"))
          .limits(List.of(Limit.of(10, Duration.ofMinutes(1)))).mode(c.mode());
      if (c.override() != null) {
        policy.onError(c.override());
      }
      set.policy(policy.build());
      byName.put("p" + i, c);
    }
    Engine engine = Engine.builder().policies(set.build()).store(new ScriptedStore(byName))
        .clock(new ManualClock()).build();

    CompletableFuture<Decision> future = engine.decide(TestRequest.get("/x")).toCompletableFuture();

    assertThat(future).isCompletedWithValueMatching(d -> true);
    Decision decision = future.join();
    List<String> expectedNames = new ArrayList<>();
    boolean limited = false;
    boolean unavailable = false;
    long longestWait = 0;
    for (int i = 0; i < cases.size(); i++) {
      Case c = cases.get(i);
      expectedNames.add("p" + i);
      boolean enforced = c.mode() == Mode.ENFORCE;
      OnError onError = c.override() != null ? c.override() : setDefault;
      if (enforced && c.answer() == Answer.DENY) {
        limited = true;
        longestWait = Math.max(longestWait, c.retryAfterNanos());
      }
      boolean failed = c.answer() != Answer.ALLOW && c.answer() != Answer.DENY;
      if (enforced && failed && onError == OnError.DENY) {
        unavailable = true;
      }
    }
    assertThat(decision.policies()).extracting(d -> d.policy().name()).containsExactlyElementsOf(expectedNames);
    Outcome expected = limited ? Outcome.LIMITED : unavailable ? Outcome.UNAVAILABLE : Outcome.ALLOWED;
    assertThat(decision.outcome()).isEqualTo(expected);
    if (expected == Outcome.LIMITED) {
      assertThat(decision.retryAfterSeconds()).isEqualTo((longestWait + 999_999_999) / 1_000_000_000);
    } else {
      assertThat(decision.retryAfterSeconds()).isEqualTo(expected == Outcome.UNAVAILABLE ? 1 : 0);
    }
    decision.mostRestrictive().ifPresent(d -> {
      assertThat(d.shadow()).isFalse();
      assertThat(d.storeError()).isFalse();
    });
    for (PolicyDecision d : decision.policies()) {
      assertThat(d.storeError()).isEqualTo(
          byName.get(d.policy().name()).answer() != Answer.ALLOW
              && byName.get(d.policy().name()).answer() != Answer.DENY);
    }
  }

  /** Answers each policy's bucket as its case says. */
  private static final class ScriptedStore implements Store {
    private final Map<String, Case> cases;

    ScriptedStore(Map<String, Case> cases) {
      this.cases = cases;
    }

    @Override
    public CompletionStage<Consumption> tryConsume(BucketKey key, BucketSpec spec, long cost) {
      Case c = cases.get(key.policy());
      LimitStatus status = new LimitStatus(c.remaining(), 6_000_000_000L, 60_000_000_000L);
      return switch (c.answer()) {
        case ALLOW -> CompletableFuture.completedFuture(new Consumption(true, -1, 0, List.of(status)));
        case DENY -> CompletableFuture.completedFuture(
            new Consumption(false, 0, c.retryAfterNanos(), List.of(status)));
        case FAIL -> CompletableFuture.failedFuture(new StoreException("timed out"));
        case THROW -> throw new StoreException("connection reset");
        case NULL -> null;
      };
    }

    @Override
    public CompletionStage<Void> ping() {
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {}
  }
}
