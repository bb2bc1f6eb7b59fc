package dev.sluice.algorithm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.limit.Limit;
import dev.sluice.limit.LimitParser;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class GcraTest {
  private static final long SECOND = 1_000_000_000L;
  private static final long NOW = 5_000 * SECOND;

  private static final Limit FOUR_PER_SECOND = LimitParser.parse("4/second"); // interval 250ms

  @Test
  void refund_rightAfterAnAdmission_restoresThePreviousStateAndNeverGoesBelowFull() {
    Limit limit = LimitParser.parse("10/second");
    long now = 1_000_000_000L;
    long before = Gcra.admit(Gcra.FRESH, now, 4, limit);
    long after = Gcra.admit(before, now, 3, limit);

    assertThat(Gcra.refund(after, now, 3, limit)).isEqualTo(before);
    assertThat(Gcra.refund(before, now, 10, limit)).as("floored at full").isEqualTo(now);
    assertThat(Gcra.refund(now - 5, now, 1, limit)).as("a full bucket stays as it is").isEqualTo(now - 5);
  }

  @Test
  void step_freshBucket_admitsExactlyBurstAtOnce() {
    Limit limit = LimitParser.parse("4/second burst 6");
    long tat = Gcra.FRESH;
    for (int i = 0; i < 6; i++) {
      Gcra.Step step = Gcra.step(tat, NOW, 1, limit);
      assertThat(step.allowed()).as("request %d", i).isTrue();
      tat = step.newTat();
    }

    Gcra.Step seventh = Gcra.step(tat, NOW, 1, limit);

    assertThat(seventh.allowed()).isFalse();
    assertThat(seventh.newTat()).isEqualTo(tat);
    assertThat(seventh.retryAfterNanos()).isEqualTo(SECOND / 4);
  }

  @Test
  void step_afterBurst_admitsOnePerInterval() {
    long tat = drain(FOUR_PER_SECOND, NOW);
    long interval = SECOND / 4;

    for (int i = 1; i <= 10; i++) {
      long now = NOW + i * interval;
      assertThat(Gcra.step(tat, now - 1, 1, FOUR_PER_SECOND).allowed()).isFalse();
      Gcra.Step step = Gcra.step(tat, now, 1, FOUR_PER_SECOND);
      assertThat(step.allowed()).isTrue();
      tat = step.newTat();
      assertThat(Gcra.step(tat, now, 1, FOUR_PER_SECOND).allowed()).isFalse();
    }
  }

  @Test
  void step_retriedExactlyAfterRetryAfter_isAdmittedAndOneNanosecondEarlierIsNot() {
    Limit limit = LimitParser.parse("3/7 seconds burst 5"); // interval ceil(7s/3)
    long tat = drain(limit, NOW);
    tat = Gcra.step(tat, NOW + 123_456_789L, 1, limit).newTat(); // not yet: still denied
    for (long cost = 1; cost <= 5; cost++) {
      Gcra.Step denied = Gcra.step(tat, NOW, cost, limit);
      assertThat(denied.allowed()).isFalse();
      long retry = denied.retryAfterNanos();

      assertThat(Gcra.step(tat, NOW + retry - 1, cost, limit).allowed()).as("cost %d", cost).isFalse();
      assertThat(Gcra.step(tat, NOW + retry, cost, limit).allowed()).as("cost %d", cost).isTrue();
    }
  }

  @Test
  void step_cost_consumesThatManyTokens() {
    Limit limit = LimitParser.parse("10/second");
    Gcra.Step first = Gcra.step(Gcra.FRESH, NOW, 7, limit);

    assertThat(first.allowed()).isTrue();
    assertThat(Gcra.remaining(first.newTat(), NOW, limit)).isEqualTo(3);
    assertThat(Gcra.step(first.newTat(), NOW, 4, limit).allowed()).isFalse();
    assertThat(Gcra.step(first.newTat(), NOW, 3, limit).allowed()).isTrue();
  }

  @Test
  void step_costAboveBurstOrBelowOne_isRejected() {
    assertThatThrownBy(() -> Gcra.step(Gcra.FRESH, NOW, 5, FOUR_PER_SECOND))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cost must be between 1 and the burst of limit \"4/second\" (4), got 5");
    assertThatThrownBy(() -> Gcra.step(Gcra.FRESH, NOW, 0, FOUR_PER_SECOND))
        .hasMessage("cost must be between 1 and the burst of limit \"4/second\" (4), got 0");
  }

  @Test
  void status_reportsRemainingNextTokenAndFull() {
    long tat = Gcra.step(Gcra.FRESH, NOW, 3, FOUR_PER_SECOND).newTat(); // debt 750ms

    assertThat(Gcra.remaining(tat, NOW, FOUR_PER_SECOND)).isEqualTo(1);
    assertThat(Gcra.nanosToNextToken(tat, NOW, FOUR_PER_SECOND)).isEqualTo(SECOND / 4);
    assertThat(Gcra.nanosToFull(tat, NOW)).isEqualTo(3 * SECOND / 4);

    long later = NOW + 100_000_000L; // debt 650ms: 1 token + 0.4 of the next
    assertThat(Gcra.remaining(tat, later, FOUR_PER_SECOND)).isEqualTo(1);
    assertThat(Gcra.nanosToNextToken(tat, later, FOUR_PER_SECOND)).isEqualTo(150_000_000L);
    assertThat(Gcra.remaining(tat, later + 150_000_000L, FOUR_PER_SECOND)).isEqualTo(2);
    assertThat(Gcra.nanosToFull(tat, later)).isEqualTo(650_000_000L);
  }

  @Test
  void status_fullBucket_hasBurstAndNoWait() {
    assertThat(Gcra.remaining(Gcra.FRESH, NOW, FOUR_PER_SECOND)).isEqualTo(4);
    assertThat(Gcra.nanosToNextToken(Gcra.FRESH, NOW, FOUR_PER_SECOND)).isZero();
    assertThat(Gcra.nanosToFull(Gcra.FRESH, NOW)).isZero();
  }

  @Test
  void consumeAll_oneLimitDenies_consumesFromNone() {
    List<Limit> limits = List.of(LimitParser.parse("10/second"), LimitParser.parse("3/minute"));
    long[] tats = {Gcra.FRESH, Gcra.FRESH};
    for (int i = 0; i < 3; i++) {
      assertThat(Gcra.consumeAll(tats, NOW, 1, limits).allowed()).isTrue();
    }
    long[] before = tats.clone();

    Admission denied = Gcra.consumeAll(tats, NOW, 1, limits);

    assertThat(denied.allowed()).isFalse();
    assertThat(denied.deniedLimit()).isEqualTo(1);
    assertThat(denied.retryAfterNanos()).isEqualTo(20 * SECOND);
    assertThat(tats).containsExactly(before);
    assertThat(Gcra.remaining(tats[0], NOW, limits.get(0))).isEqualTo(7);
  }

  @Test
  void consumeAll_bothDeny_namesTheLongerWaitAndRetryAfterAdmits() {
    List<Limit> limits = List.of(LimitParser.parse("2/second"), LimitParser.parse("4/minute"));
    long[] tats = {Gcra.FRESH, Gcra.FRESH};
    Gcra.consumeAll(tats, NOW, 2, limits);
    Gcra.consumeAll(tats, NOW + SECOND, 2, limits);

    Admission denied = Gcra.consumeAll(tats, NOW + SECOND, 1, limits);

    assertThat(denied.deniedLimit()).isEqualTo(1);
    long retryAt = NOW + SECOND + denied.retryAfterNanos();
    assertThat(Gcra.consumeAll(tats, retryAt - 1, 1, limits).allowed()).isFalse();
    assertThat(Gcra.consumeAll(tats, retryAt, 1, limits).allowed()).isTrue();
  }

  @Test
  void step_absurdBurst_saturatesCapacityConservatively() {
    Limit huge = new Limit(1, 1_000 * SECOND, Long.MAX_VALUE / 2, "1/1000s burst huge");

    assertThat(Gcra.capacityNanos(huge)).isEqualTo(Gcra.MAX_CAPACITY_NANOS);
    long tokens = Gcra.remaining(Gcra.FRESH, NOW, huge);
    assertThat(tokens).isEqualTo(Gcra.MAX_CAPACITY_NANOS / (1_000 * SECOND)).isLessThan(huge.burst());
    Gcra.Step all = Gcra.step(Gcra.FRESH, NOW, tokens, huge);
    assertThat(all.allowed()).isTrue();
    assertThat(Gcra.step(all.newTat(), NOW, 1, huge).allowed()).isFalse();
  }

  @Test
  void step_largestPeriod_doesNotOverflow() {
    Limit limit = new Limit(1, Duration.ofDays(106751).toNanos(), 1, "1/106751 days burst 1");

    Gcra.Step first = Gcra.step(Gcra.FRESH, NOW, 1, limit);
    Gcra.Step second = Gcra.step(first.newTat(), NOW, 1, limit);

    assertThat(first.allowed()).isTrue();
    assertThat(second.allowed()).isFalse();
    assertThat(second.retryAfterNanos()).isPositive();
  }

  @Test
  void step_intervalRoundedUp_refillsAWholeBucketAFewNanosecondsAfterThePeriod() {
    Limit limit = LimitParser.parse("3/second"); // interval 333,333,334ns, conservative
    long tat = drain(limit, NOW);

    assertThat(Gcra.remaining(tat, NOW + SECOND, limit)).isEqualTo(2);
    assertThat(Gcra.nanosToFull(tat, NOW + SECOND)).isEqualTo(2);
    assertThat(Gcra.remaining(tat, NOW + SECOND + 2, limit)).isEqualTo(3);
  }

  private static long drain(Limit limit, long now) {
    Gcra.Step step = Gcra.step(Gcra.FRESH, now, limit.burst(), limit);
    assertThat(step.allowed()).isTrue();
    return step.newTat();
  }
}
