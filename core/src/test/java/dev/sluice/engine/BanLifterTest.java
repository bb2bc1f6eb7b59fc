package dev.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.identity.IdentityResolver;
import dev.sluice.limit.LimitParser;
import dev.sluice.policy.Penalty;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.store.Ban;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.ManualClock;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@link BanLifter}: lifting a ban forgets the buckets (and, unless kept, the offences) of the
 * banned identity under the ban's scope: one policy, or every policy for scope {@code all}, and
 * nothing else.
 */
class BanLifterTest {
  private final ManualClock clock = new ManualClock();
  private final InstantSource wall = AbuseControlTest.wallClockOf(clock);
  private final MemoryStore store = new MemoryStore(clock, 10_000, wall);

  private Engine engine(Penalty.Scope scope) {
    Penalty penalty = new Penalty(Duration.ofMinutes(10), 2, Duration.ofHours(24), scope);
    PolicySet set = PolicySet.builder().identity(IdentityResolver.builder().build())
        .policy(Policy.builder("login").paths(List.of("/auth/login")).limits(List.of(LimitParser.parse("2/hour")))
            .penalty(penalty).build())
        .policy(Policy.builder("search").paths(List.of("/search")).limits(List.of(LimitParser.parse("2/hour")))
            .build())
        .defaults(List.of(dev.sluice.identity.IdentitySpec.parse("ip")), List.of(LimitParser.parse("2/hour")))
        .build();
    return Engine.builder().policies(set).store(store).clock(clock).wallClock(wall).build();
  }

  private static Outcome decide(Engine engine, String method, String path) {
    return engine.decide(TestRequest.of(method, path)).toCompletableFuture().join().outcome();
  }

  /** Empties search's and the defaults' buckets, then trips login: banned, offence 1. */
  private static Ban trip(Engine engine) {
    for (int i = 0; i < 2; i++) {
      decide(engine, "GET", "/search");
      decide(engine, "GET", "/other");
      decide(engine, "POST", "/auth/login");
    }
    assertThat(decide(engine, "POST", "/auth/login")).isEqualTo(Outcome.BLOCKED);
    return engine.bans().bans().get(0);
  }

  private Optional<Ban> lift(Engine engine, Ban ban, boolean keepOffences) {
    return new BanLifter(engine.bans(), store).lift(ban.id(), engine.policies(), keepOffences)
        .toCompletableFuture().join();
  }

  @Test
  void lift_policyScope_forgetsThatPolicysBucketAndOffencesOnly() {
    Engine engine = engine(Penalty.Scope.POLICY);
    Ban ban = trip(engine);

    assertThat(lift(engine, ban, false)).contains(ban);

    assertThat(engine.bans().bans()).isEmpty();
    assertThat(decide(engine, "POST", "/auth/login")).as("login's bucket is full again").isEqualTo(Outcome.ALLOWED);
    assertThat(decide(engine, "GET", "/search")).as("search's bucket is untouched").isEqualTo(Outcome.LIMITED);
    assertThat(store.recordOffence(BanLifter.offenceKey("login", ban.identity()), Duration.ofHours(24).toNanos())
        .toCompletableFuture().join()).as("offences forgotten").isEqualTo(1);
  }

  @Test
  void lift_scopeAll_forgetsEveryPolicysBucketsIncludingTheDefaults() {
    Engine engine = engine(Penalty.Scope.ALL);
    Ban ban = trip(engine);
    assertThat(ban.scope()).isEqualTo(Ban.ALL_POLICIES);

    assertThat(lift(engine, ban, false)).contains(ban);

    assertThat(decide(engine, "POST", "/auth/login")).isEqualTo(Outcome.ALLOWED);
    assertThat(decide(engine, "GET", "/search")).isEqualTo(Outcome.ALLOWED);
    assertThat(decide(engine, "GET", "/other")).isEqualTo(Outcome.ALLOWED);
  }

  @Test
  void lift_keepOffences_forgetsTheBucketButTheNextTripEscalates() {
    Engine engine = engine(Penalty.Scope.POLICY);
    Ban ban = trip(engine);

    lift(engine, ban, true);

    decide(engine, "POST", "/auth/login");
    decide(engine, "POST", "/auth/login");
    Decision second = engine.decide(TestRequest.of("POST", "/auth/login")).toCompletableFuture().join();
    assertThat(second.outcome()).isEqualTo(Outcome.BLOCKED);
    assertThat(second.retryAfterSeconds()).as("offence 2: 20 minutes").isEqualTo(1200);
  }

  @Test
  void lift_unknownId_isEmptyAndForgetsNothing() {
    Engine engine = engine(Penalty.Scope.POLICY);
    Ban ban = trip(engine);

    assertThat(new BanLifter(engine.bans(), store).lift("0123456789abcdef", engine.policies(), false)
        .toCompletableFuture().join()).isEmpty();

    assertThat(engine.bans().bans()).containsExactly(ban);
  }
}
