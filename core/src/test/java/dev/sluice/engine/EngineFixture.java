package dev.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.limit.LimitParser;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.request.RequestView;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Policies, policy sets and decisions as the engine's example-based tests write them. */
final class EngineFixture {
  static final IdentitySpec IP = new IdentitySpec(IdentityKind.IP, null);
  static final IdentitySpec API_KEY = new IdentitySpec(IdentityKind.API_KEY, null);
  static final IdentitySpec GLOBAL = new IdentitySpec(IdentityKind.GLOBAL, null);

  private EngineFixture() {}

  static List<Limit> limits(String... texts) {
    List<Limit> limits = new ArrayList<>();
    for (String text : texts) {
      limits.add(LimitParser.parse(text));
    }
    return limits;
  }

  static Policy.Builder policy(String name, String path, String... limits) {
    return Policy.builder(name).paths(List.of(path)).limits(limits(limits));
  }

  static PolicySet.Builder set(IdentityResolver resolver, Policy... policies) {
    PolicySet.Builder set = PolicySet.builder().identity(resolver);
    for (Policy p : policies) {
      set.policy(p);
    }
    return set;
  }

  /** The memory store answers before returning, so the decision must be complete at once. */
  static Decision decide(Engine engine, RequestView request) {
    CompletableFuture<Decision> future = engine.decide(request).toCompletableFuture();
    assertThat(future).isDone();
    return future.join();
  }

  static Decision decideTimes(Engine engine, RequestView request, int times) {
    Decision last = null;
    for (int i = 0; i < times; i++) {
      last = decide(engine, request);
    }
    return last;
  }

  static List<String> names(Decision decision) {
    List<String> names = new ArrayList<>();
    for (PolicyDecision d : decision.policies()) {
      names.add(d.policy().name());
    }
    return names;
  }
}
