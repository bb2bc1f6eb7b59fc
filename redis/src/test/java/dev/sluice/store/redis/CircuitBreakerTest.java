package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.store.redis.CircuitBreaker.Permit;
import dev.sluice.time.ManualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

  private final ManualClock clock = new ManualClock();
  private final CircuitBreaker breaker = new CircuitBreaker(clock, Duration.ofSeconds(1).toNanos());

  @Test
  void acquire_closed_letsEveryCallThrough() {
    assertThat(breaker.acquire()).isEqualTo(Permit.CALL);
    assertThat(breaker.acquire()).isEqualTo(Permit.CALL);
    assertThat(breaker.isOpen()).isFalse();
  }

  @Test
  void onFailure_opensForOneIntervalThenElectsExactlyOneProbe() {
    breaker.onFailure(Permit.CALL, "timed out");

    assertThat(breaker.acquire()).isEqualTo(Permit.REJECT);
    assertThat(breaker.cause()).isEqualTo("timed out");
    assertThat(breaker.nanosUntilProbe()).isEqualTo(Duration.ofSeconds(1).toNanos());
    clock.advance(Duration.ofMillis(999));
    assertThat(breaker.acquire()).isEqualTo(Permit.REJECT);
    clock.advance(Duration.ofMillis(1));
    assertThat(breaker.acquire()).isEqualTo(Permit.PROBE);
    assertThat(breaker.acquire()).as("others fail fast while the probe runs").isEqualTo(Permit.REJECT);
  }

  @Test
  void probeSucceeds_closes() {
    breaker.onFailure(Permit.CALL, "refused");
    clock.advance(Duration.ofSeconds(1));
    assertThat(breaker.acquire()).isEqualTo(Permit.PROBE);

    breaker.onSuccess();

    assertThat(breaker.isOpen()).isFalse();
    assertThat(breaker.acquire()).isEqualTo(Permit.CALL);
  }

  @Test
  void probeFails_opensForAnotherInterval() {
    breaker.onFailure(Permit.CALL, "refused");
    clock.advance(Duration.ofSeconds(1));
    assertThat(breaker.acquire()).isEqualTo(Permit.PROBE);

    breaker.onFailure(Permit.PROBE, "still refused");

    assertThat(breaker.acquire()).isEqualTo(Permit.REJECT);
    assertThat(breaker.cause()).isEqualTo("still refused");
    clock.advance(Duration.ofSeconds(1));
    assertThat(breaker.acquire()).isEqualTo(Permit.PROBE);
  }

  @Test
  void stragglerFailuresWhileOpen_doNotExtendTheInterval() {
    breaker.onFailure(Permit.CALL, "timed out");
    clock.advance(Duration.ofMillis(900));

    breaker.onFailure(Permit.CALL, "timed out too");

    clock.advance(Duration.ofMillis(100));
    assertThat(breaker.acquire()).isEqualTo(Permit.PROBE);
  }

  @Test
  void lostProbe_anotherProbeIsElectedNextInterval() {
    breaker.onFailure(Permit.CALL, "timed out");
    clock.advance(Duration.ofSeconds(1));
    assertThat(breaker.acquire()).isEqualTo(Permit.PROBE);

    clock.advance(Duration.ofSeconds(1)); // the probe never reported back

    assertThat(breaker.acquire()).isEqualTo(Permit.PROBE);
  }
}
