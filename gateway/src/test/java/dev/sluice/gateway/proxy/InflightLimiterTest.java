package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.policy.Priority;
import org.junit.jupiter.api.Test;

class InflightLimiterTest {
  @Test
  void thresholds_maxTwoHundred_areHalfNinetyPercentAndAll() {
    InflightLimiter limiter = new InflightLimiter(200);

    assertThat(limiter.threshold(Priority.LOW)).isEqualTo(100);
    assertThat(limiter.threshold(Priority.NORMAL)).isEqualTo(180);
    assertThat(limiter.threshold(Priority.CRITICAL)).isEqualTo(200);
  }

  @Test
  void tryAcquire_atLowThreshold_shedsLowButAdmitsCriticalUntilFull() {
    InflightLimiter limiter = new InflightLimiter(2);

    assertThat(limiter.tryAcquire(Priority.LOW)).isTrue();
    assertThat(limiter.tryAcquire(Priority.LOW)).isFalse();
    assertThat(limiter.tryAcquire(Priority.CRITICAL)).isTrue();
    assertThat(limiter.tryAcquire(Priority.CRITICAL)).isFalse();
    limiter.release();
    assertThat(limiter.inflight()).isEqualTo(1);
    assertThat(limiter.tryAcquire(Priority.NORMAL)).isFalse(); // max(1, 2*0.9) = 1
    assertThat(limiter.tryAcquire(Priority.CRITICAL)).isTrue();
  }

  @Test
  void unlimited_alwaysAdmitsAndCountsNothing() {
    for (int i = 0; i < 1000; i++) {
      assertThat(InflightLimiter.UNLIMITED.tryAcquire(Priority.LOW)).isTrue();
    }
    assertThat(InflightLimiter.UNLIMITED.inflight()).isZero();
  }
}
