package dev.sluice.engine;

import static dev.sluice.engine.EngineFixture.API_KEY;
import static dev.sluice.engine.EngineFixture.GLOBAL;
import static dev.sluice.engine.EngineFixture.IP;
import static dev.sluice.engine.EngineFixture.decide;
import static dev.sluice.engine.EngineFixture.decideTimes;
import static dev.sluice.engine.EngineFixture.limits;
import static dev.sluice.engine.EngineFixture.names;
import static dev.sluice.engine.EngineFixture.policy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.identity.Cidr;
import dev.sluice.identity.CidrSet;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.policy.Mode;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.store.MemoryStore;
import dev.sluice.store.Store;
import dev.sluice.time.ManualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class EngineTest {
  private final ManualClock clock = new ManualClock();
  private final MemoryStore memory = new MemoryStore(clock);
  private IdentityResolver resolver = IdentityResolver.builder().apiKeyHeader("X-API-Key").build();

  private PolicySet.Builder set(Policy... policies) {
    return EngineFixture.set(resolver, policies);
  }

  private Engine engine(PolicySet.Builder set) {
    return engine(set, memory);
  }

  private Engine engine(PolicySet.Builder set, Store store) {
    return Engine.builder().policies(set.build()).store(store).clock(clock).build();
  }

  // ---------------------------------------------------------------- matching

  @Test
  void decide_severalPoliciesMatch_everyOneAppliesInFileOrder() {
    Engine engine = engine(set(
        policy("api", "/api/**", "100/minute").build(),
        policy("search", "/api/search", "10/minute").build(),
        policy("other", "/other", "1/minute").build()));

    Decision decision = decide(engine, TestRequest.get("/api/search"));

    assertThat(names(decision)).containsExactly("api", "search");
    assertThat(decision.outcome()).isEqualTo(Outcome.ALLOWED);
  }

  @Test
  void decide_methodNotListed_policyDoesNotApply() {
    Engine engine = engine(set(
        policy("login", "/auth/login", "5/minute").methods(List.of("POST")).build()));

    assertThat(names(decide(engine, TestRequest.of("POST", "/auth/login")))).containsExactly("login");
    assertThat(decide(engine, TestRequest.get("/auth/login")).policies()).isEmpty();
  }

  @Test
  void decide_noPolicyMatches_defaultsApply() {
    Engine engine = engine(set(policy("api", "/api/**", "100/minute").build())
        .defaults(List.of(IP), limits("1/minute")));

    Decision first = decide(engine, TestRequest.get("/home"));
    Decision second = decide(engine, TestRequest.get("/home"));

    assertThat(names(first)).containsExactly("default");
    assertThat(first.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(second.outcome()).isEqualTo(Outcome.LIMITED);
  }

  @Test
  void decide_somePolicyMatches_defaultsDoNotApply() {
    Engine engine = engine(set(policy("api", "/api/**", "100/minute").build())
        .defaults(List.of(IP), limits("1/minute")));

    Decision second = decideTimes(engine, TestRequest.get("/api/x"), 2);

    assertThat(names(second)).containsExactly("api");
    assertThat(second.outcome()).isEqualTo(Outcome.ALLOWED);
  }

  @Test
  void decide_nothingMatchesAndNoDefaults_isAllowedWithoutPolicies() {
    Engine engine = engine(set(policy("api", "/api/**", "1/minute").build()));

    Decision decision = decide(engine, TestRequest.get("/home"));

    assertThat(decision.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(decision.policies()).isEmpty();
    assertThat(decision.mostRestrictive()).isEmpty();
    assertThat(decision.denying()).isEmpty();
    assertThat(decision.retryAfterSeconds()).isZero();
    assertThat(memory.size()).isZero();
  }

  // ---------------------------------------------------------------- identities

  @Test
  void decide_apiKeyPresent_countsUnderTheApiKey() {
    Engine engine = engine(set(policy("search", "/s", "1/minute").by(List.of(API_KEY, IP)).build()));

    PolicyDecision d = decide(engine, TestRequest.get("/s").header("X-API-Key", "k1")).policies().get(0);

    assertThat(d.identity().spec()).isEqualTo(API_KEY);
    assertThat(d.identity().value()).doesNotContain("k1");
  }

  @Test
  void decide_apiKeyAbsent_fallsBackToIp() {
    Engine engine = engine(set(policy("search", "/s", "1/minute").by(List.of(API_KEY, IP)).build()));

    PolicyDecision d = decide(engine, TestRequest.get("/s")).policies().get(0);

    assertThat(d.identity().spec()).isEqualTo(IP);
    assertThat(d.identity().value()).isEqualTo("192.0.2.10");
  }

  @Test
  void decide_chainWithoutIpAndNothingPresent_fallsBackToIp() {
    Engine engine = engine(set(policy("reports", "/r", "1/minute").by(List.of(API_KEY)).build()));

    Decision first = decide(engine, TestRequest.get("/r"));
    Decision sameIp = decide(engine, TestRequest.get("/r"));
    Decision otherIp = decide(engine, TestRequest.get("/r").from("192.0.2.11"));

    assertThat(first.policies().get(0).identity().key()).isEqualTo("ip:192.0.2.10");
    assertThat(sameIp.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(otherIp.outcome()).isEqualTo(Outcome.ALLOWED);
  }

  @Test
  void decide_unknownKeyWithKnownKeys_fallsBackToIpSoInventedKeysGetNoBucket() {
    resolver = IdentityResolver.builder().apiKeyHeader("X-API-Key").knownApiKeys(List.of("good")).build();
    Engine engine = engine(set(policy("search", "/s", "1/minute").by(List.of(API_KEY, IP)).build()));

    Decision invented1 = decide(engine, TestRequest.get("/s").header("X-API-Key", "invented-1"));
    Decision invented2 = decide(engine, TestRequest.get("/s").header("X-API-Key", "invented-2"));
    Decision known = decide(engine, TestRequest.get("/s").header("X-API-Key", "good"));

    assertThat(invented1.policies().get(0).identity().spec()).isEqualTo(IP);
    assertThat(invented2.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(known.policies().get(0).identity().spec()).isEqualTo(API_KEY);
    assertThat(known.outcome()).isEqualTo(Outcome.ALLOWED);
  }

  @Test
  void decide_globalIdentity_sharesOneBucketAcrossClients() {
    Engine engine = engine(set(policy("all", "/x", "1/minute").by(List.of(GLOBAL)).build()));

    decide(engine, TestRequest.get("/x"));
    Decision other = decide(engine, TestRequest.get("/x").from("198.51.100.1"));

    assertThat(other.outcome()).isEqualTo(Outcome.LIMITED);
  }

  @Test
  void decide_samePolicyIdentityAcrossPolicies_resolvesEachIdentityOnce() {
    Engine engine = engine(set(
        policy("a", "/x", "10/minute").by(List.of(API_KEY, IP)).build(),
        policy("b", "/x", "10/minute").by(List.of(API_KEY, IP)).build(),
        policy("c", "/x", "10/minute").by(List.of(API_KEY)).build()));
    TestRequest request = TestRequest.get("/x").header("X-API-Key", "k1");

    Decision decision = decide(engine, request);

    assertThat(decision.policies()).hasSize(3);
    assertThat(request.reads("X-API-Key")).isEqualTo(1);
  }

  @Test
  void decide_bucketsArePerPolicy_samIdentityInTwoPoliciesCountsSeparately() {
    Engine engine = engine(set(
        policy("a", "/a", "1/minute").build(),
        policy("b", "/b", "1/minute").build()));

    decide(engine, TestRequest.get("/a"));

    assertThat(decide(engine, TestRequest.get("/b")).outcome()).isEqualTo(Outcome.ALLOWED);
  }

  // ---------------------------------------------------------------- exemptions

  @Test
  void decide_exemptIp_isExemptAndConsumesNothing() {
    Engine engine = engine(set(policy("api", "/api", "1/minute").build())
        .exemptIps(CidrSet.of(List.of(Cidr.parse("10.0.0.0/8")))));

    Decision first = decide(engine, TestRequest.get("/api").from("10.1.2.3"));
    Decision second = decide(engine, TestRequest.get("/api").from("10.1.2.3"));

    assertThat(second.outcome()).isEqualTo(Outcome.EXEMPT);
    assertThat(second.exempt()).isTrue();
    assertThat(first.policies()).isEmpty();
    assertThat(second.client().client().getHostAddress()).isEqualTo("10.1.2.3");
    assertThat(memory.size()).isZero();
  }

  @Test
  void decide_ipOutsideExemptRanges_isLimited() {
    Engine engine = engine(set(policy("api", "/api", "1/minute").build())
        .exemptIps(CidrSet.of(List.of(Cidr.parse("10.0.0.0/8")))));

    Decision second = decideTimes(engine, TestRequest.get("/api").from("11.1.2.3"), 2);

    assertThat(second.outcome()).isEqualTo(Outcome.LIMITED);
  }

  @Test
  void decide_exemptApiKey_isExempt() {
    Engine engine = engine(set(policy("api", "/api", "1/minute").build())
        .exemptApiKeys(List.of("internal-batch-key")));
    TestRequest request = TestRequest.get("/api").header("X-API-Key", "internal-batch-key");

    Decision second = decideTimes(engine, request, 2);

    assertThat(second.outcome()).isEqualTo(Outcome.EXEMPT);
    assertThat(memory.size()).isZero();
  }

  @Test
  void decide_nonExemptApiKey_isLimited() {
    Engine engine = engine(set(policy("api", "/api", "1/minute").build())
        .exemptApiKeys(List.of("internal-batch-key")));
    TestRequest request = TestRequest.get("/api").header("X-API-Key", "internal-batch-key-2");

    assertThat(decideTimes(engine, request, 2).outcome()).isEqualTo(Outcome.LIMITED);
  }

  // ---------------------------------------------------------------- shadow

  @Test
  void decide_shadowPolicyOverLimit_reportsShadowLimitedButNeverLimits() {
    Engine engine = engine(set(policy("reports", "/r", "1/minute").mode(Mode.SHADOW).build()));

    Decision first = decide(engine, TestRequest.get("/r"));
    Decision second = decide(engine, TestRequest.get("/r"));

    assertThat(first.policies().get(0).outcomeLabel()).isEqualTo("allowed");
    assertThat(second.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(second.policies().get(0).outcomeLabel()).isEqualTo("shadow_limited");
    assertThat(second.policies().get(0).shadow()).isTrue();
    assertThat(second.policies().get(0).allowed()).isFalse();
    assertThat(second.denying()).isEmpty();
    assertThat(second.retryAfterSeconds()).isZero();
  }

  @Test
  void decide_shadowPolicy_consumesItsOwnBucketFaithfully() {
    Engine engine = engine(set(policy("reports", "/r", "3/minute").mode(Mode.SHADOW).build()));

    Decision third = decideTimes(engine, TestRequest.get("/r"), 3);

    assertThat(third.policies().get(0).consumption().limits().get(0).remaining()).isZero();
    assertThat(third.policies().get(0).outcomeLabel()).isEqualTo("allowed");
  }

  @Test
  void mostRestrictive_shadowPolicyWithFewerTokens_isNeverChosen() {
    Engine engine = engine(set(
        policy("enforced", "/r", "10/minute").build(),
        policy("shadowed", "/r", "2/minute").mode(Mode.SHADOW).build()));

    Decision decision = decide(engine, TestRequest.get("/r"));

    assertThat(decision.mostRestrictive()).map(d -> d.policy().name()).contains("enforced");
  }

  @Test
  void mostRestrictive_onlyShadowPolicies_isEmpty() {
    Engine engine = engine(set(policy("shadowed", "/r", "2/minute").mode(Mode.SHADOW).build()));

    assertThat(decide(engine, TestRequest.get("/r")).mostRestrictive()).isEmpty();
  }

  // ---------------------------------------------------------------- limits and cost

  @Test
  void decide_secondLimitDenies_firstLimitIsNotConsumed() {
    Engine engine = engine(set(policy("login", "/login", "1/second", "2/minute").build()));
    TestRequest request = TestRequest.get("/login");

    decide(engine, request);
    clock.advance(Duration.ofSeconds(1));
    decide(engine, request);
    clock.advance(Duration.ofSeconds(1));
    Decision third = decide(engine, request);

    PolicyDecision d = third.policies().get(0);
    assertThat(third.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(d.limitIndex()).isEqualTo(1);
    assertThat(d.itemName()).isEqualTo("login/2");
    assertThat(d.consumption().limits().get(0).remaining()).isEqualTo(1);
  }

  @Test
  void decide_cost_consumesThatManyTokens() {
    Engine engine = engine(set(policy("reports", "/r", "5/minute").cost(2).build()));
    TestRequest request = TestRequest.get("/r");

    Decision first = decide(engine, request);
    Decision second = decide(engine, request);
    Decision third = decide(engine, request);

    assertThat(first.policies().get(0).consumption().limits().get(0).remaining()).isEqualTo(3);
    assertThat(second.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(third.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(third.policies().get(0).consumption().limits().get(0).remaining()).isEqualTo(1);
  }

  @Test
  void decide_policyDeniesWhileAnotherAllows_eachConsumesIndependently() {
    Engine engine = engine(set(
        policy("strict", "/x", "1/minute").build(),
        policy("loose", "/x", "5/minute").build()));
    TestRequest request = TestRequest.get("/x");

    decide(engine, request);
    Decision second = decide(engine, request);

    assertThat(second.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(second.denying()).map(d -> d.policy().name()).contains("strict");
    PolicyDecision loose = second.policies().get(1);
    assertThat(loose.allowed()).isTrue();
    assertThat(loose.consumption().limits().get(0).remaining()).isEqualTo(3);
  }

  @Test
  void decide_slidingWindowPolicy_hasNoBurstBeyondN() {
    Engine engine = engine(set(policy("sw", "/x", "2/minute")
        .algorithm(dev.sluice.algorithm.Algorithm.SLIDING_WINDOW).build()));
    TestRequest request = TestRequest.get("/x");

    Decision second = decideTimes(engine, request, 2);
    clock.advance(Duration.ofSeconds(59));
    Decision third = decide(engine, request);
    clock.advance(Duration.ofSeconds(1));
    Decision fourth = decide(engine, request);

    assertThat(second.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(third.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(fourth.outcome()).isEqualTo(Outcome.ALLOWED);
  }

  // ---------------------------------------------------------------- retry-after and headers

  @Test
  void retryAfterSeconds_denied_isTheWaitRoundedUp() {
    Engine engine = engine(set(policy("login", "/login", "1/minute").build()));
    TestRequest request = TestRequest.get("/login");
    decide(engine, request);

    Decision denied = decide(engine, request);
    clock.advance(Duration.ofMillis(59_500));
    Decision almost = decide(engine, request);
    clock.advance(Duration.ofMillis(500));
    Decision admitted = decide(engine, request);

    assertThat(denied.retryAfterSeconds()).isEqualTo(60);
    assertThat(denied.denying().orElseThrow().retryAfterNanos()).isEqualTo(60_000_000_000L);
    assertThat(almost.retryAfterSeconds()).isEqualTo(1);
    assertThat(admitted.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(admitted.retryAfterSeconds()).isZero();
  }

  @Test
  void denying_twoPoliciesDeny_namesTheLongerWait() {
    Engine engine = engine(set(
        policy("per-second", "/x", "1/second").build(),
        policy("per-hour", "/x", "1/hour").build()));
    TestRequest request = TestRequest.get("/x");
    decide(engine, request);

    Decision denied = decide(engine, request);

    assertThat(denied.denying()).map(d -> d.policy().name()).contains("per-hour");
    assertThat(denied.retryAfterSeconds()).isEqualTo(3600);
  }

  @Test
  void mostRestrictive_twoEnforcedPolicies_isTheOneWithFewestTokensLeft() {
    Engine engine = engine(set(
        policy("wide", "/x", "100/minute").build(),
        policy("narrow", "/x", "3/minute", "1000/hour").build()));

    Decision decision = decide(engine, TestRequest.get("/x"));

    PolicyDecision most = decision.mostRestrictive().orElseThrow();
    assertThat(most.policy().name()).isEqualTo("narrow");
    assertThat(most.limitIndex()).isZero();
    assertThat(most.itemName()).isEqualTo("narrow/1");
    assertThat(most.limitStatus().remaining()).isEqualTo(2);
  }

  @Test
  void limitIndex_allowed_isTheLimitWithFewestTokensLeft() {
    Engine engine = engine(set(policy("p", "/x", "1000/hour", "3/minute").build()));

    PolicyDecision d = decide(engine, TestRequest.get("/x")).policies().get(0);

    assertThat(d.limitIndex()).isEqualTo(1);
    assertThat(d.itemName()).isEqualTo("p/2");
  }

  // ---------------------------------------------------------------- listener

  @Test
  void decide_listener_isCalledOncePerRequestWithTheDecisionTime() {
    List<Object[]> calls = new ArrayList<>();
    PendingStore store = new PendingStore();
    Engine engine = Engine.builder()
        .policies(set(policy("a", "/x", "1/minute").build()).build())
        .store(store).clock(clock)
        .listener((request, decision, nanos) -> calls.add(new Object[] {request, decision, nanos}))
        .build();
    TestRequest request = TestRequest.get("/x");

    CompletableFuture<Decision> result = engine.decide(request).toCompletableFuture();
    clock.advance(1_500);
    assertThat(calls).isEmpty();
    store.answer(0, true);

    assertThat(calls).hasSize(1);
    assertThat(calls.get(0)[0]).isSameAs(request);
    assertThat(calls.get(0)[1]).isSameAs(result.join());
    assertThat(calls.get(0)[2]).isEqualTo(1_500L);
  }

  @Test
  void decide_exemptAndUnmatchedRequests_areReportedToTheListenerToo() {
    List<Outcome> outcomes = new ArrayList<>();
    Engine engine = Engine.builder()
        .policies(set(policy("a", "/x", "1/minute").build())
            .exemptIps(CidrSet.of(List.of(Cidr.parse("10.0.0.0/8")))).build())
        .store(memory).clock(clock)
        .listener((request, decision, nanos) -> outcomes.add(decision.outcome()))
        .build();

    decide(engine, TestRequest.get("/x").from("10.0.0.1"));
    decide(engine, TestRequest.get("/nothing"));

    assertThat(outcomes).containsExactly(Outcome.EXEMPT, Outcome.ALLOWED);
  }

  @Test
  void decide_listenerThrows_decisionIsUnaffected() {
    Engine engine = Engine.builder()
        .policies(set(policy("a", "/x", "1/minute").build()).build())
        .store(memory).clock(clock)
        .listener((request, decision, nanos) -> {
          throw new IllegalStateException("metrics broke");
        })
        .build();

    Decision second = decideTimes(engine, TestRequest.get("/x"), 2);

    assertThat(second.outcome()).isEqualTo(Outcome.LIMITED);
  }

  // ---------------------------------------------------------------- builder

  @Test
  void build_withoutStore_isRejected() {
    assertThatThrownBy(() -> Engine.builder().policies(PolicySet.builder().build()).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("Engine.builder() needs store(Store) before build(); it was not called");
  }

  @Test
  void build_withoutPolicies_isRejected() {
    assertThatThrownBy(() -> Engine.builder().store(memory).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("Engine.builder() needs policies(PolicySet) before build(); it was not called");
  }

  @Test
  void storeTimeout_zero_isRejected() {
    assertThatThrownBy(() -> Engine.builder().storeTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("store timeout 0s is not allowed; expected a positive duration such as 50ms");
  }
}
