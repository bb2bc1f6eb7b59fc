package dev.sluice.algorithm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.limit.Limit;
import dev.sluice.limit.LimitParser;
import java.util.List;
import org.junit.jupiter.api.Test;

class SlidingWindowTest {
  private static final long SECOND = 1_000_000_000L;
  private static final long NOW = 5_000 * SECOND;
  private static final Limit THREE_PER_SECOND = LimitParser.parse("3/second burst 10");

  @Test
  void tryConsume_admitsNThenDeniesUntilTheOldestLeavesTheWindow() {
    SlidingWindow.Log log = new SlidingWindow.Log(3);
    assertThat(SlidingWindow.tryConsume(log, NOW, 1, THREE_PER_SECOND)).isZero();
    assertThat(SlidingWindow.tryConsume(log, NOW + 100, 1, THREE_PER_SECOND)).isZero();
    assertThat(SlidingWindow.tryConsume(log, NOW + 200, 1, THREE_PER_SECOND)).isZero();

    long retry = SlidingWindow.tryConsume(log, NOW + 300, 1, THREE_PER_SECOND);

    assertThat(retry).as("burst is ignored").isEqualTo(SECOND - 300);
    assertThat(SlidingWindow.tryConsume(log, NOW + SECOND - 1, 1, THREE_PER_SECOND)).isOne();
    assertThat(SlidingWindow.tryConsume(log, NOW + SECOND, 1, THREE_PER_SECOND)).isZero();
    assertThat(SlidingWindow.tryConsume(log, NOW + SECOND, 1, THREE_PER_SECOND)).isEqualTo(100);
  }

  @Test
  void retryAfter_isExactForEveryCost() {
    Limit limit = LimitParser.parse("5/second");
    SlidingWindow.Log log = new SlidingWindow.Log(5);
    for (int i = 0; i < 5; i++) {
      SlidingWindow.tryConsume(log, NOW + i * 1000L, 1, limit);
    }
    for (long cost = 1; cost <= 5; cost++) {
      long retry = SlidingWindow.retryAfter(log, NOW + 10_000, cost, limit);
      assertThat(retry).isEqualTo(SECOND + (cost - 1) * 1000L - 10_000);
      assertThat(SlidingWindow.retryAfter(log, NOW + 10_000 + retry - 1, cost, limit)).isOne();
      assertThat(SlidingWindow.retryAfter(log, NOW + 10_000 + retry, cost, limit)).isZero();
    }
  }

  @Test
  void tryConsume_cost_writesThatManyEntries() {
    Limit limit = LimitParser.parse("10/minute");
    SlidingWindow.Log log = new SlidingWindow.Log(10);

    assertThat(SlidingWindow.tryConsume(log, NOW, 7, limit)).isZero();

    assertThat(SlidingWindow.remaining(log, NOW, limit)).isEqualTo(3);
    assertThat(SlidingWindow.tryConsume(log, NOW, 4, limit)).isEqualTo(60 * SECOND);
    assertThat(SlidingWindow.tryConsume(log, NOW, 3, limit)).isZero();
  }

  @Test
  void tryConsume_costAboveN_isRejected() {
    SlidingWindow.Log log = new SlidingWindow.Log(3);

    assertThatThrownBy(() -> SlidingWindow.tryConsume(log, NOW, 4, THREE_PER_SECOND))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "cost must be between 1 and the quantity of sliding-window limit \"3/second burst 10\""
                + " (3), got 4");
  }

  @Test
  void log_quantityAboveCap_isRejected() {
    assertThatThrownBy(() -> new SlidingWindow.Log(SlidingWindow.MAX_QUANTITY + 1))
        .hasMessage(
            "a sliding-window limit allows 1 to 100000 tokens per period (its state holds one"
                + " timestamp per token), got 100001");
  }

  @Test
  void status_reportsRemainingNextTokenAndFull() {
    SlidingWindow.Log log = new SlidingWindow.Log(3);
    SlidingWindow.tryConsume(log, NOW, 1, THREE_PER_SECOND);
    SlidingWindow.tryConsume(log, NOW + 400, 1, THREE_PER_SECOND);

    assertThat(SlidingWindow.remaining(log, NOW + 500, THREE_PER_SECOND)).isOne();
    assertThat(SlidingWindow.nanosToNextToken(log, NOW + 500, THREE_PER_SECOND)).isEqualTo(SECOND - 500);
    assertThat(SlidingWindow.nanosToFull(log, NOW + 500, THREE_PER_SECOND)).isEqualTo(SECOND - 100);
    assertThat(SlidingWindow.remaining(log, NOW + SECOND, THREE_PER_SECOND)).isEqualTo(2);
    assertThat(SlidingWindow.remaining(log, NOW + SECOND + 400, THREE_PER_SECOND)).isEqualTo(3);
    assertThat(SlidingWindow.nanosToNextToken(log, NOW + SECOND + 400, THREE_PER_SECOND)).isZero();
    assertThat(SlidingWindow.nanosToFull(log, NOW + SECOND + 400, THREE_PER_SECOND)).isZero();
  }

  @Test
  void tryConsume_clockReadBehindNewestEntry_staysSortedAndExact() {
    SlidingWindow.Log log = new SlidingWindow.Log(2);
    SlidingWindow.tryConsume(log, NOW + 50, 1, LimitParser.parse("2/second"));
    SlidingWindow.tryConsume(log, NOW, 1, LimitParser.parse("2/second")); // recorded at NOW + 50

    assertThat(log.at(0)).isEqualTo(log.at(1)).isEqualTo(NOW + 50);
    assertThat(SlidingWindow.retryAfter(log, NOW, 1, LimitParser.parse("2/second")))
        .isEqualTo(SECOND + 50);
  }

  @Test
  void log_growsAndWrapsAroundKeepingTheLastNEntries() {
    Limit limit = LimitParser.parse("20/second");
    SlidingWindow.Log log = new SlidingWindow.Log(20);
    long now = NOW;
    for (int i = 0; i < 100; i++) {
      now += SECOND / 20;
      assertThat(SlidingWindow.tryConsume(log, now, 1, limit)).as("request %d", i).isZero();
    }
    assertThat(log.size()).isEqualTo(20);
    assertThat(log.newest()).isEqualTo(now);
    assertThat(log.at(0)).isEqualTo(now - 19 * (SECOND / 20));
    assertThat(SlidingWindow.tryConsume(log, now, 1, limit)).isEqualTo(SECOND / 20);
  }

  @Test
  void consumeAll_oneLimitDenies_consumesFromNone() {
    List<Limit> limits = List.of(LimitParser.parse("10/second"), LimitParser.parse("2/minute"));
    SlidingWindow.Log[] logs = {new SlidingWindow.Log(10), new SlidingWindow.Log(2)};
    assertThat(SlidingWindow.consumeAll(logs, NOW, 1, limits).allowed()).isTrue();
    assertThat(SlidingWindow.consumeAll(logs, NOW + 1, 1, limits).allowed()).isTrue();

    Admission denied = SlidingWindow.consumeAll(logs, NOW + 2, 1, limits);

    assertThat(denied.deniedLimit()).isEqualTo(1);
    assertThat(denied.retryAfterNanos()).isEqualTo(60 * SECOND - 2);
    assertThat(logs[0].size()).isEqualTo(2);
    assertThat(SlidingWindow.consumeAll(logs, NOW + 60 * SECOND, 1, limits).allowed()).isTrue();
  }
}
