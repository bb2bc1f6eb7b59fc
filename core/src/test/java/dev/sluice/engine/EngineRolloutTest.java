package dev.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.limit.LimitParser;
import dev.sluice.policy.Mode;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.policy.Rollout;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.ManualClock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Reload through the engine's handle, staged rollout, and defaults under shadow (SPEC §2, §9). */
class EngineRolloutTest {
  private static final IdentitySpec IP = new IdentitySpec(IdentityKind.IP, null);

  private final ManualClock clock = new ManualClock();
  private final MemoryStore memory = new MemoryStore(clock);
  private final IdentityResolver resolver = IdentityResolver.builder().build();

  private static List<Limit> limits(String... texts) {
    List<Limit> limits = new ArrayList<>();
    for (String text : texts) {
      limits.add(LimitParser.parse(text));
    }
    return limits;
  }

  private static Policy.Builder policy(String name, String path, String... limits) {
    return Policy.builder(name).paths(List.of(path)).limits(limits(limits));
  }

  private PolicySet set(List<Policy> policies, String defaults) {
    PolicySet.Builder set = PolicySet.builder().identity(resolver);
    policies.forEach(set::policy);
    if (defaults != null) {
      set.defaults(List.of(IP), limits(defaults));
    }
    return set.build();
  }

  private Engine engine(PolicySet set) {
    return Engine.builder().policies(set).store(memory).clock(clock).build();
  }

  private static Decision decide(Engine engine, TestRequest request) {
    CompletableFuture<Decision> future = engine.decide(request).toCompletableFuture();
    assertThat(future).isDone();
    return future.join();
  }

  private static int admitted(Engine engine, TestRequest request, int times) {
    int admitted = 0;
    for (int i = 0; i < times; i++) {
      if (decide(engine, request).outcome() == Outcome.ALLOWED) {
        admitted++;
      }
    }
    return admitted;
  }

  @Test
  void decide_shadowPolicyOnARouteWithDefaults_staysLimitedByTheDefaults() {
    // The bug of issue 12, point 6: 110 rapid requests all passed a 100/minute default once a
    // shadow policy matched the route.
    Engine engine = engine(set(List.of(policy("new", "/api/**", "5/minute").mode(Mode.SHADOW).build()), "100/minute"));

    int admitted = admitted(engine, TestRequest.get("/api/items"), 110);

    assertThat(admitted).isEqualTo(100);
    Decision last = decide(engine, TestRequest.get("/api/items"));
    assertThat(last.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(last.denying().orElseThrow().policy().name()).isEqualTo(PolicySet.DEFAULTS_NAME);
    assertThat(last.policies()).extracting(pd -> pd.outcomeLabel())
        .containsExactly("shadow_limited", "limited");
  }

  @Test
  void decide_partialRollout_identitiesLeftInShadowStayLimitedByTheDefaults() {
    Engine engine = engine(set(List.of(policy("new", "/api/**", "5/minute").rollout(1_000).build()), "20/minute"));
    int shadowed = 0;
    int enforced = 0;
    for (int i = 1; i <= 60; i++) {
      String ip = "198.51.100." + i;
      TestRequest request = TestRequest.get("/api/items").from(ip);
      int admitted = admitted(engine, request, 30);
      if (Rollout.enforces("new", "ip:" + ip, 1_000)) {
        enforced++;
        assertThat(admitted).as("enforced identity " + ip).isEqualTo(5);
      } else {
        shadowed++;
        assertThat(admitted).as("identity in shadow " + ip + " keeps the default").isEqualTo(20);
      }
    }
    assertThat(shadowed).isPositive();
    assertThat(enforced).isPositive();
  }

  @Test
  void decide_rolloutZeroPercent_isShadowLikeModeShadow() {
    Engine engine = engine(set(List.of(policy("new", "/api/**", "2/minute").rollout(0).build()), "4/minute"));

    assertThat(admitted(engine, TestRequest.get("/api/items"), 10)).isEqualTo(4);
    assertThat(decide(engine, TestRequest.get("/api/items")).policies().get(0).outcomeLabel())
        .isEqualTo("shadow_limited");
  }

  @Test
  void decide_enforcedPolicy_doesNotAddTheDefaults() {
    Engine engine = engine(set(List.of(policy("api", "/api/**", "50/minute").build()), "10/minute"));

    assertThat(admitted(engine, TestRequest.get("/api/items"), 60)).isEqualTo(50);
  }

  @Test
  void rollout_shareOverAThousandIdentities_isWithinFivePointsAndMonotonic() {
    for (int share : new int[] {1_000, 5_000, 9_000}) {
      Policy p = policy("search", "/s", "1/hour").rollout(share).build();
      Engine engine = engine(set(List.of(p), null));
      int limited = 0;
      Set<String> enforcedAtShare = new HashSet<>();
      for (int i = 0; i < 1_000; i++) {
        String ip = "10." + (i / 250) + "." + (i % 250) + ".1";
        TestRequest request = TestRequest.get("/s").from(ip);
        decide(engine, request);
        if (decide(engine, request).outcome() == Outcome.LIMITED) {
          limited++;
          enforcedAtShare.add(ip);
        }
      }
      assertThat(limited / 10.0).as("enforced share at " + Rollout.text(share))
          .isBetween(share / 100.0 - 5, share / 100.0 + 5);
      for (String ip : enforcedAtShare) {
        assertThat(Rollout.enforces("search", "ip:" + ip, Math.min(Rollout.ALL, share + 1_000)))
            .as("raising the share keeps " + ip).isTrue();
      }
    }
  }

  @Test
  void rollout_slot_isAFixedFunctionOfPolicyAndIdentity() {
    // Pinned values: the same on every instance, JVM and restart (see Rollout's class comment).
    assertThat(Rollout.slot("search", "ip:203.0.113.7")).isEqualTo(Rollout.slot("search", "ip:203.0.113.7"));
    assertThat(Rollout.slot("login", "ip:192.0.2.1")).isEqualTo(PINNED_LOGIN_SLOT);
    assertThat(Rollout.text(1_000)).isEqualTo("10%");
    assertThat(Rollout.text(250)).isEqualTo("2.5%");
    assertThat(Rollout.text(5)).isEqualTo("0.05%");
  }

  private static final int PINNED_LOGIN_SLOT = 6741; // FNV-1a 64 + fmix64, checked against an independent Python computation

  @Test
  void reload_unchangedPolicy_keepsItsBucketsAndEveryHolderSeesTheNewVersion() {
    Engine engine = engine(set(List.of(policy("login", "/login", "5/minute").build()), null));
    TestRequest request = TestRequest.get("/login");
    assertThat(admitted(engine, request, 5)).isEqualTo(5);

    Engine next = engine.reload(set(List.of(
        policy("login", "/login", "5/minute").build(), policy("other", "/other", "1/minute").build()), null));

    assertThat(engine.policies().policies()).hasSize(2);
    assertThat(engine.current()).isSameAs(next);
    assertThat(decide(engine, request).outcome()).as("no fresh burst after a reload").isEqualTo(Outcome.LIMITED);
    assertThat(decide(engine, TestRequest.get("/other")).outcome()).isEqualTo(Outcome.ALLOWED);
  }

  @Test
  void reload_rollbackToTheOldSet_keepsTheState() {
    PolicySet v1 = set(List.of(policy("login", "/login", "5/minute").build()), null);
    Engine engine = engine(v1);
    TestRequest request = TestRequest.get("/login");
    admitted(engine, request, 5);
    engine.reload(set(List.of(policy("login", "/login", "10/minute").build()), null));
    assertThat(admitted(engine, request, 10)).as("5 used of the new 10").isEqualTo(5);

    engine.reload(v1);

    assertThat(decide(engine, request).outcome()).isEqualTo(Outcome.LIMITED);
  }
}
