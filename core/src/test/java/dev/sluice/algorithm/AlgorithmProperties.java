package dev.sluice.algorithm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.limit.Limit;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The guarantees of docs/algorithms.md, checked on random request schedules. */
class AlgorithmProperties {
  private static final long START = 1_000_000_000_000L;

  record Request(long gapNanos, long cost) {}

  record Admitted(long at, long cost) {}

  @Property(tries = 500)
  void gcra_anySchedule_admitsAtMostBurstPlusRefillInAnyInterval(
      @ForAll("limits") Limit limit, @ForAll("schedules") List<Request> schedule) {
    long tat = Gcra.FRESH;
    long now = START;
    List<Admitted> admitted = new ArrayList<>();
    for (Request request : schedule) {
      now += request.gapNanos();
      long cost = Math.min(request.cost(), limit.burst());
      long before = Gcra.remaining(tat, now, limit);
      Gcra.Step step = Gcra.step(tat, now, cost, limit);
      // Never under-admits either: exactly the requests that fit the whole tokens left pass.
      assertThat(step.allowed()).isEqualTo(cost <= before);
      if (step.allowed()) {
        admitted.add(new Admitted(now, cost));
      }
      tat = step.newTat();
    }
    for (int i = 0; i < admitted.size(); i++) {
      long tokens = 0;
      for (int j = i; j < admitted.size(); j++) {
        tokens += admitted.get(j).cost();
        long t = admitted.get(j).at() - admitted.get(i).at();
        long bound = limit.burst() + Math.multiplyExact(t, limit.quantity()) / limit.periodNanos();
        assertThat(tokens).as("tokens in [%d, %d]", admitted.get(i).at(), admitted.get(j).at())
            .isLessThanOrEqualTo(bound);
      }
    }
  }

  @Property(tries = 500)
  void slidingWindow_anySchedule_admitsAtMostNInAnyWindow(
      @ForAll("limits") Limit limit, @ForAll("schedules") List<Request> schedule) {
    SlidingWindow.Log log = new SlidingWindow.Log(limit.quantity());
    long now = START;
    List<Admitted> admitted = new ArrayList<>();
    for (Request request : schedule) {
      now += request.gapNanos();
      long cost = Math.min(request.cost(), limit.quantity());
      long before = SlidingWindow.remaining(log, now, limit);
      long retry = SlidingWindow.tryConsume(log, now, cost, limit);
      assertThat(retry == 0).isEqualTo(cost <= before);
      if (retry == 0) {
        admitted.add(new Admitted(now, cost));
      }
    }
    for (int i = 0; i < admitted.size(); i++) {
      long windowStart = admitted.get(i).at();
      long tokens = 0;
      for (int j = i; j < admitted.size() && admitted.get(j).at() - windowStart < limit.periodNanos(); j++) {
        tokens += admitted.get(j).cost();
      }
      assertThat(tokens).as("tokens in window from %d", windowStart).isLessThanOrEqualTo(limit.quantity());
    }
  }

  @Provide
  Arbitrary<Limit> limits() {
    Arbitrary<Long> quantity = Arbitraries.longs().between(1, 12);
    Arbitrary<Long> period = Arbitraries.longs().between(1, 10_000);
    Arbitrary<Long> burst = Arbitraries.longs().between(1, 15);
    return Combinators.combine(quantity, period, burst).as((n, p, b) -> new Limit(n, p, b, null));
  }

  @Provide
  Arbitrary<List<Request>> schedules() {
    Arbitrary<Long> gap =
        Arbitraries.oneOf(
            Arbitraries.just(0L), Arbitraries.longs().between(0, 50), Arbitraries.longs().between(0, 5_000));
    Arbitrary<Long> cost = Arbitraries.longs().between(1, 4);
    return Combinators.combine(gap, cost).as(Request::new).list().ofMaxSize(150);
  }

  @Property(tries = 300)
  void gcraConsumeAll_anySchedule_isTheConjunctionAndDeniedConsumesNothing(
      @ForAll("limits") Limit first,
      @ForAll("limits") Limit second,
      @ForAll("schedules") List<Request> schedule) {
    List<Limit> limits = List.of(first, second);
    long[] tats = {Gcra.FRESH, Gcra.FRESH};
    long now = START;
    for (Request request : schedule) {
      now += request.gapNanos();
      long cost = Math.min(request.cost(), Math.min(first.burst(), second.burst()));
      long[] before = tats.clone();
      boolean firstAllows = Gcra.step(tats[0], now, cost, first).allowed();
      boolean secondAllows = Gcra.step(tats[1], now, cost, second).allowed();

      Admission admission = Gcra.consumeAll(tats, now, cost, limits);

      assertThat(admission.allowed()).isEqualTo(firstAllows && secondAllows);
      if (!admission.allowed()) {
        assertThat(tats).containsExactly(before);
        long retryAt = now + admission.retryAfterNanos();
        assertThat(Gcra.retryAfter(tats[0], retryAt, cost, first)).isZero();
        assertThat(Gcra.retryAfter(tats[1], retryAt, cost, second)).isZero();
        long justBefore = retryAt - 1;
        assertThat(
                Gcra.retryAfter(tats[0], justBefore, cost, first) > 0
                    || Gcra.retryAfter(tats[1], justBefore, cost, second) > 0)
            .as("one nanosecond before retry-after some limit still denies")
            .isTrue();
      }
    }
  }
}
