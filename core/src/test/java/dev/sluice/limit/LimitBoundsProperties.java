package dev.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.algorithm.Gcra;
import dev.sluice.algorithm.SlidingWindow;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Issue 9: {@code check} must reject what the engine cannot run. Any limit text either parses into
 * a limit the engine decides without overflow or saturation (the bucket below 2^53 ns, so the
 * Redis script's doubles stay exact; Retry-After within the capacity), or is a positioned error.
 */
class LimitBoundsProperties {

  @Property(tries = 3000)
  void parse_anyLimitText_isDecidableWithoutOverflowOrAPositionedError(@ForAll("limits") String text) {
    Limit limit;
    try {
      limit = LimitParser.parse(text);
    } catch (LimitSyntaxException e) {
      assertThat(e.column()).isBetween(0, text.length());
      assertThat(e.getMessage()).startsWith("invalid limit \"" + text + "\": ");
      return;
    }
    assertThat(limit.boundsProblem()).isEmpty();
    long capacity = Gcra.capacityNanos(limit);
    // Not saturated: the capacity is exactly burst × interval, and within the stores' horizon.
    assertThat(capacity).isEqualTo(Math.multiplyExact(limit.burst(), limit.emissionIntervalNanos()));
    assertThat(capacity).isLessThanOrEqualTo(Limit.MAX_CAPACITY_NANOS);

    // Drain a fresh bucket at a clock far from its origin, then ask for one more of the largest cost.
    long now = 1L << 60;
    long tat = Gcra.FRESH;
    long cost = limit.burst();
    Gcra.Step first = Gcra.step(tat, now, cost, limit);
    assertThat(first.allowed()).isTrue();
    long retry = Gcra.retryAfter(first.newTat(), now, cost, limit);
    assertThat(retry).isPositive().isLessThanOrEqualTo(capacity);
    long retrySeconds = (retry + 999_999_999L) / 1_000_000_000L;
    assertThat(retrySeconds).isLessThanOrEqualTo(Limit.MAX_CAPACITY_NANOS / 1_000_000_000L + 1);
    assertThat(Gcra.retryAfter(first.newTat(), now + retry, cost, limit)).isZero();

    if (limit.quantity() <= SlidingWindow.MAX_QUANTITY) {
      SlidingWindow.Log log = new SlidingWindow.Log(limit.quantity());
      assertThat(SlidingWindow.tryConsume(log, now, limit.quantity(), limit)).isZero();
      long wait = SlidingWindow.retryAfter(log, now, 1, limit);
      assertThat(wait).isPositive().isLessThanOrEqualTo(limit.periodNanos());
      assertThat(limit.periodNanos()).isLessThanOrEqualTo(Limit.MAX_PERIOD_NANOS);
    }
  }

  /** Grammatical limits with numbers from 1 to Long.MAX_VALUE, biased to the edges of the bounds. */
  @Provide
  Arbitrary<String> limits() {
    Arbitrary<Long> numbers = Arbitraries.oneOf(
        Arbitraries.longs().between(1, 1_000),
        Arbitraries.longs().between(1, Long.MAX_VALUE),
        Arbitraries.of(104L, 105L, 2_500L, 1_000_000L, 1_000_001L, 9_007_199L, 86_400_000_000L,
            9_007_199_254_740_991L, Long.MAX_VALUE));
    Arbitrary<String> units = Arbitraries.of("second", "s", "minutes", "m", "hour", "h", "days", "d");
    Arbitrary<String> burst = Arbitraries.oneOf(Arbitraries.just(""), numbers.map(b -> " burst " + b));
    Arbitrary<String> multiplier = Arbitraries.oneOf(Arbitraries.just(""), numbers.map(m -> m + " "));
    return Combinators.combine(numbers, multiplier, units, burst)
        .as((n, m, u, b) -> n + "/" + m + u + b);
  }
}
