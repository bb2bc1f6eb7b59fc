package dev.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.limit.LimitParser;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.policy.StatusRange;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.ManualClock;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@code count:} reserves before forwarding: for any interleaving of decisions, upstream answers
 * and releases, the attempts in flight plus those that counted never exceed the limit, and a
 * request is admitted exactly when they leave room (the clock is frozen, so nothing refills).
 */
class CountProperties {

  enum Kind { DECIDE, RESPOND_COUNTED, RESPOND_NOT_COUNTED, RELEASE }

  record Op(Kind kind, int target) {}

  @Provide
  Arbitrary<List<Op>> schedules() {
    Arbitrary<Op> op = Combinators.combine(
        Arbitraries.of(Kind.class), Arbitraries.integers().between(0, 1_000)).as(Op::new);
    return op.list().ofMinSize(1).ofMaxSize(80);
  }

  @Property(tries = 300)
  void inFlightPlusCounted_neverExceedsTheLimit(
      @ForAll("schedules") List<Op> schedule, @ForAll("limits") int limit) {
    ManualClock clock = new ManualClock();
    Engine engine = Engine.builder()
        .policies(PolicySet.builder()
            .policy(Policy.builder("login").paths(List.of("/auth/login"))
                .limits(List.of(LimitParser.parse(limit + "/day")))
                .count(List.of(StatusRange.of(401), StatusRange.parse("5xx"))).build())
            .build())
        .store(new MemoryStore(clock))
        .clock(clock)
        .build();
    List<Decision> inFlight = new ArrayList<>(); // admitted, not settled
    List<Decision> answered = new ArrayList<>(); // answered, not yet released
    int counted = 0;

    for (Op op : schedule) {
      switch (op.kind()) {
        case DECIDE -> {
          Decision d = engine.decide(TestRequest.of("POST", "/auth/login")).toCompletableFuture().join();
          boolean room = inFlight.size() + counted < limit;
          assertThat(d.outcome() == Outcome.ALLOWED).as("admitted iff there is room").isEqualTo(room);
          if (room) {
            inFlight.add(d);
          }
        }
        case RESPOND_COUNTED, RESPOND_NOT_COUNTED -> {
          if (!inFlight.isEmpty()) {
            Decision d = inFlight.remove(op.target() % inFlight.size());
            boolean counts = op.kind() == Kind.RESPOND_COUNTED;
            d.onResponse(counts ? (op.target() % 2 == 0 ? 401 : 503) : (op.target() % 2 == 0 ? 200 : 404));
            counted += counts ? 1 : 0;
            answered.add(d);
          } else if (!answered.isEmpty()) {
            answered.get(op.target() % answered.size()).onResponse(200); // a late duplicate: no effect
          }
        }
        case RELEASE -> {
          if (!answered.isEmpty() && op.target() % 2 == 0) {
            answered.remove(op.target() % answered.size()).release();
          } else if (!inFlight.isEmpty()) {
            inFlight.remove(op.target() % inFlight.size()).release(); // aborted: does not count
          }
        }
        default -> throw new AssertionError(op);
      }
      assertThat(inFlight.size() + counted).isLessThanOrEqualTo(limit);
    }
  }

  @Provide
  Arbitrary<Integer> limits() {
    return Arbitraries.integers().between(1, 5);
  }
}
