package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConsumptionTest {

  @Test
  void ofOne_equalsTheSameAnswerBuiltFromAList() {
    Consumption inline = Consumption.ofOne(false, 7, 0, 7, 90);
    Consumption listed = new Consumption(false, 0, 7, List.of(new LimitStatus(0, 7, 90)));

    assertThat(inline).isEqualTo(listed).hasSameHashCodeAs(listed).hasToString(listed.toString());
    assertThat(inline.deniedLimit()).isZero();
    assertThat(inline.limits()).containsExactly(new LimitStatus(0, 7, 90));
  }

  @Test
  void ofOne_allowed_hasNoDeniedLimit() {
    Consumption allowed = Consumption.ofOne(true, 0, 9, 100, 100);

    assertThat(allowed.deniedLimit()).isEqualTo(-1);
    assertThat(allowed.limitCount()).isOne();
    assertThat(allowed.limit(0)).isEqualTo(new LimitStatus(9, 100, 100)).isSameAs(allowed.limit(0));
  }

  @Test
  void limit_outOfRange_isRejected() {
    assertThatThrownBy(() -> Consumption.ofOne(true, 0, 9, 100, 100).limit(1))
        .isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> new Consumption(true, -1, 0, null).limit(0))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void limitCount_ofAnAnswerWithoutLimits_isZero() {
    assertThat(new Consumption(true, -1, 0, null).limitCount()).isZero();
    assertThat(new Consumption(true, -1, 0, List.of()).limitCount()).isZero();
  }
}
