package dev.sluice.engine;

import static dev.sluice.engine.EngineFixture.decide;
import static dev.sluice.engine.EngineFixture.names;
import static dev.sluice.engine.EngineFixture.policy;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.identity.IdentityResolver;
import dev.sluice.policy.Mode;
import dev.sluice.policy.OnError;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.request.RequestView;
import dev.sluice.store.BucketKey;
import dev.sluice.store.MemoryStore;
import dev.sluice.store.Store;
import dev.sluice.time.ManualClock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The engine when its store fails, is full, answers badly or late: each policy's {@code on_error},
 * the set's, and the store calls of one request made side by side.
 */
class EngineStoreFailureTest {
  private final ManualClock clock = new ManualClock();
  private final MemoryStore memory = new MemoryStore(clock);

  private PolicySet.Builder set(Policy... policies) {
    return EngineFixture.set(IdentityResolver.builder().build(), policies);
  }

  private Engine engine(PolicySet.Builder set) {
    return engine(set, memory);
  }

  private Engine engine(PolicySet.Builder set, Store store) {
    return Engine.builder().policies(set.build()).store(store).clock(clock).build();
  }

  @Test
  void decide_storeFailsUnderAllow_admitsWithStoreError() {
    Engine engine = engine(set(policy("api", "/api", "1/minute").build()), new FailingStore(memory, Set.of("api")));

    Decision decision = decide(engine, TestRequest.get("/api"));

    PolicyDecision d = decision.policies().get(0);
    assertThat(decision.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(d.storeError()).isTrue();
    assertThat(d.allowed()).isTrue();
    assertThat(d.consumption()).isNull();
    assertThat(d.outcomeLabel()).isEqualTo("allowed");
    assertThat(decision.mostRestrictive()).isEmpty();
  }

  @Test
  void decide_storeFailsUnderDeny_isUnavailableWithRetryAfterOne() {
    Engine engine = engine(set(policy("api", "/api", "1/minute").build()).onError(OnError.DENY),
        new FailingStore(memory, Set.of("api")));

    Decision decision = decide(engine, TestRequest.get("/api"));

    assertThat(decision.outcome()).isEqualTo(Outcome.UNAVAILABLE);
    assertThat(decision.retryAfterSeconds()).isEqualTo(1);
    assertThat(decision.denying()).map(d -> d.policy().name()).contains("api");
    assertThat(decision.policies().get(0).storeError()).isTrue();
    assertThat(decision.policies().get(0).outcomeLabel()).isEqualTo("limited");
  }

  @Test
  void decide_policyOverridesOnError_overrideWins() {
    Engine engine = engine(set(
            policy("strict", "/api", "1/minute").onError(OnError.DENY).build(),
            policy("lenient", "/other", "1/minute").onError(OnError.ALLOW).build())
            .onError(OnError.ALLOW),
        new FailingStore(memory, Set.of("strict", "lenient")));

    assertThat(decide(engine, TestRequest.get("/api")).outcome()).isEqualTo(Outcome.UNAVAILABLE);
    assertThat(decide(engine, TestRequest.get("/other")).outcome()).isEqualTo(Outcome.ALLOWED);
  }

  @Test
  void decide_newIdentityWithTheMemoryStoresShareFull_isUnavailableEvenUnderOnErrorAllow() {
    MemoryStore small = new MemoryStore(clock, 2);
    Engine engine = engine(set(
            policy("login", "/login", "1/minute").onError(OnError.ALLOW).build(),
            policy("search", "/search", "1/hour").build()).onError(OnError.ALLOW), small);
    assertThat(small.shareLimit()).as("the engine told the store its two policies").isEqualTo(1);
    assertThat(decide(engine, TestRequest.get("/login").from("192.0.2.1")).outcome()).isEqualTo(Outcome.ALLOWED);

    Decision refused = decide(engine, TestRequest.get("/login").from("192.0.2.2"));

    assertThat(refused.outcome()).isEqualTo(Outcome.UNAVAILABLE);
    assertThat(refused.retryAfterSeconds()).isEqualTo(1);
    PolicyDecision d = refused.denying().orElseThrow();
    assertThat(d.storeFull()).isTrue();
    assertThat(d.outcomeLabel()).isEqualTo("limited");
    assertThat(decide(engine, TestRequest.get("/search").from("192.0.2.2")).outcome())
        .as("search keeps its own share").isEqualTo(Outcome.ALLOWED);
    assertThat(decide(engine, TestRequest.get("/login").from("192.0.2.1")).outcome())
        .as("the tracked identity is still decided").isEqualTo(Outcome.LIMITED);
  }

  @Test
  void decideNow_newIdentityWithTheMemoryStoresShareFull_isUnavailableEvenUnderOnErrorAllow() {
    // The shared fast path must refuse a new identity the full store cannot track, like decide():
    // on_error (allow) is for a failing store, not for a full one.
    MemoryStore small = new MemoryStore(clock, 2);
    Engine engine = engine(set(
            policy("login", "/login", "1/minute").onError(OnError.ALLOW).build(),
            policy("search", "/search", "1/hour").build()).onError(OnError.ALLOW), small);
    assertThat(engine.decideNow(TestRequest.get("/login").from("192.0.2.1")).outcome()).isEqualTo(Outcome.ALLOWED);

    Decision refused = engine.decideNow(TestRequest.get("/login").from("192.0.2.2"));

    assertThat(refused.outcome()).isEqualTo(Outcome.UNAVAILABLE);
    assertThat(refused.denying().orElseThrow().storeFull()).isTrue();
    assertThat(engine.decideNow(TestRequest.get("/login").from("192.0.2.1")).outcome())
        .as("the tracked identity is still decided").isEqualTo(Outcome.LIMITED);
  }

  @Test
  void decide_shadowPolicyStoreFailsUnderDeny_neverRefuses() {
    Engine engine = engine(set(policy("s", "/api", "1/minute").mode(Mode.SHADOW).build())
        .onError(OnError.DENY), new FailingStore(memory, Set.of("s")));

    Decision decision = decide(engine, TestRequest.get("/api"));

    assertThat(decision.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(decision.policies().get(0).outcomeLabel()).isEqualTo("shadow_limited");
  }

  @Test
  void decide_oneOfTwoStoresFails_otherPolicyStillDecides() {
    Engine engine = engine(set(
        policy("broken", "/x", "1/minute").build(),
        policy("working", "/x", "1/minute").build()), new FailingStore(memory, Set.of("broken")));
    TestRequest request = TestRequest.get("/x");

    decide(engine, request);
    Decision second = decide(engine, request);

    assertThat(second.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(second.denying()).map(d -> d.policy().name()).contains("working");
    assertThat(second.policies().get(0).storeError()).isTrue();
  }

  @Test
  void decide_limitedAndStoreFailureUnderDeny_isLimited() {
    Engine engine = engine(set(
        policy("broken", "/x", "1/minute").onError(OnError.DENY).build(),
        policy("working", "/x", "1/minute").build()), new FailingStore(memory, Set.of("broken")));
    TestRequest request = TestRequest.get("/x");

    Decision first = decide(engine, request);
    Decision second = decide(engine, request);

    assertThat(first.outcome()).isEqualTo(Outcome.UNAVAILABLE);
    assertThat(second.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(second.retryAfterSeconds()).isEqualTo(60);
  }

  @Test
  void decide_storeThrowsInsteadOfFailingTheStage_isAStoreError() {
    Engine engine = engine(set(policy("api", "/api", "1/minute").build()).onError(OnError.DENY),
        new FailingStore(memory, Set.of("api")).throwing());

    Decision decision = decide(engine, TestRequest.get("/api"));

    assertThat(decision.outcome()).isEqualTo(Outcome.UNAVAILABLE);
  }

  @Test
  void decide_storeReturnsNull_isAStoreError() {
    Engine engine = engine(set(policy("api", "/api", "1/minute").build()), new FailingStore(memory, Set.of("api")).returningNull());

    Decision decision = decide(engine, TestRequest.get("/api"));

    assertThat(decision.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(decision.policies().get(0).storeError()).isTrue();
  }

  @Test
  void decide_storeAnswerDoesNotFitTheBucket_isAStoreError() {
    Engine engine = engine(set(policy("api", "/api", "1/minute").build()).onError(OnError.DENY),
        new FailingStore(memory, Set.of("api")).malformed());

    Decision decision = decide(engine, TestRequest.get("/api"));

    assertThat(decision.outcome()).isEqualTo(Outcome.UNAVAILABLE);
    assertThat(decision.policies()).hasSize(1);
    assertThat(decision.policies().get(0).storeError()).isTrue();
  }

  @Test
  void decide_storeNeverAnswers_storeTimeoutAppliesOnError() throws Exception {
    PendingStore store = new PendingStore();
    Engine engine = Engine.builder()
        .policies(set(policy("api", "/api", "1/minute").onError(OnError.DENY).build()).build())
        .store(store).clock(clock).storeTimeout(Duration.ofMillis(20)).build();

    Decision decision = engine.decide(TestRequest.get("/api")).toCompletableFuture().get(10, TimeUnit.SECONDS);

    assertThat(decision.outcome()).isEqualTo(Outcome.UNAVAILABLE);
    assertThat(decision.policies().get(0).storeError()).isTrue();
  }

  @Test
  void decide_resolverFailsUnexpectedly_appliesTheSetsOnErrorInsteadOfThrowing() {
    Engine engine = engine(set(policy("api", "/api", "1/minute").build()).onError(OnError.DENY));
    RequestView broken = new RequestView() {
      @Override public String method() {
        throw new IllegalStateException("broken adapter");
      }

      @Override public String path() {
        return "/api";
      }

      @Override public String rawQuery() {
        return null;
      }

      @Override public java.net.InetAddress peerAddress() {
        return TestRequest.address("192.0.2.1");
      }

      @Override public List<String> headers(String name) {
        return List.of();
      }
    };

    Decision decision = decide(engine, broken);

    assertThat(decision.outcome()).isEqualTo(Outcome.UNAVAILABLE);
    assertThat(decision.retryAfterSeconds()).isEqualTo(1);
    assertThat(decision.policies()).isEmpty();
  }

  // ---------------------------------------------------------------- concurrency of store calls

  @Test
  void decide_severalPolicies_startsEveryStoreCallBeforeAnyAnswers() {
    PendingStore store = new PendingStore();
    Engine engine = engine(set(
        policy("a", "/x", "1/minute").build(),
        policy("b", "/x", "1/minute").build(),
        policy("c", "/x", "1/minute").build()), store);

    CompletableFuture<Decision> result = engine.decide(TestRequest.get("/x")).toCompletableFuture();

    assertThat(store.calls).extracting(BucketKey::policy).containsExactly("a", "b", "c");
    assertThat(result).isNotDone();
    store.answer(2, true);
    store.answer(0, true);
    assertThat(result).isNotDone();
    store.answer(1, false);
    assertThat(result).isDone();
    assertThat(result.join().outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(result.join().denying()).map(d -> d.policy().name()).contains("b");
    assertThat(names(result.join())).containsExactly("a", "b", "c");
  }
}
