package dev.sluice.gateway.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class TopLimitedTest {
  private static final long T0 = 1_700_000_000_000L - Math.floorMod(1_700_000_000_000L, TopLimited.FIVE_MINUTES);

  @Test
  void spaceSaving_underCapacity_countsExactly() {
    SpaceSaving s = new SpaceSaving(4);
    for (int i = 0; i < 5; i++) {
      s.add("ip:a", "ip", "a", Outcomes.LIMITED, T0 + i);
    }
    s.add("ip:b", "ip", "b", Outcomes.BLOCKED, T0 + 9);
    assertThat(s.get("ip:a").count).isEqualTo(5);
    assertThat(s.get("ip:a").error).isZero();
    assertThat(s.get("ip:a").lastSeenMillis).isEqualTo(T0 + 4);
    assertThat(s.get("ip:b").outcomes[Outcomes.BLOCKED]).isEqualTo(1);
    assertThat(s.floor()).isZero();
  }

  @Test
  void spaceSaving_full_newcomerReplacesMinimumAndInheritsItsCount() {
    SpaceSaving s = new SpaceSaving(2);
    s.add("a", "ip", "a", Outcomes.LIMITED, T0);
    s.add("a", "ip", "a", Outcomes.LIMITED, T0);
    s.add("b", "ip", "b", Outcomes.LIMITED, T0);
    s.add("c", "ip", "c", Outcomes.LIMITED, T0);
    assertThat(s.size()).isEqualTo(2);
    assertThat(s.get("b")).isNull();
    assertThat(s.get("c").count).isEqualTo(2);
    assertThat(s.get("c").error).isEqualTo(1);
    assertThat(s.get("c").outcomes[Outcomes.LIMITED]).as("what c itself saw").isEqualTo(1);
    assertThatThrownBy(() -> new SpaceSaving(0)).hasMessage("capacity must be at least 1, got 0");
  }

  @Test
  void window_fiveMinutes_forgetsEventsOlderThanSixMinutes_sixtyMinutesKeepsThem() {
    TopLimited top = new TopLimited(8);
    top.add("ip:old", "ip", "old", Outcomes.LIMITED, T0);
    top.add("ip:new", "ip", "new", Outcomes.LIMITED, T0 + 7 * TopLimited.MINUTE);
    long now = T0 + 7 * TopLimited.MINUTE + 1000;
    assertThat(values(top.top(false, 10, now))).containsExactly("new");
    assertThat(values(top.top(true, 10, now))).containsExactlyInAnyOrder("new", "old");
    assertThat(values(top.top(true, 10, T0 + 7 * TopLimited.MINUTE + 66 * TopLimited.MINUTE))).isEmpty();
  }

  @Test
  void window_sumsAcrossBuckets_ordersByCountThenRecency_andCutsAtLimit() {
    TopLimited top = new TopLimited(8);
    for (int minute = 0; minute < 4; minute++) {
      top.add("ip:a", "ip", "a", Outcomes.LIMITED, T0 + minute * TopLimited.MINUTE);
      top.add("ip:a", "ip", "a", Outcomes.SHADOW_LIMITED, T0 + minute * TopLimited.MINUTE);
      top.add("ip:b", "ip", "b", Outcomes.BLOCKED, T0 + minute * TopLimited.MINUTE + 5);
    }
    top.add("ip:c", "ip", "c", Outcomes.LIMITED, T0);
    TopLimited.Window w = top.top(false, 2, T0 + 4 * TopLimited.MINUTE);
    assertThat(w.events()).isEqualTo(13);
    assertThat(values(w)).containsExactly("a", "b");
    TopLimited.Entry a = w.top().get(0);
    assertThat(a.count).isEqualTo(8);
    assertThat(a.outcomes[Outcomes.LIMITED]).isEqualTo(4);
    assertThat(a.outcomes[Outcomes.SHADOW_LIMITED]).isEqualTo(4);
    assertThat(a.lastSeenMillis).isEqualTo(T0 + 3 * TopLimited.MINUTE);
  }

  static List<String> values(TopLimited.Window w) {
    return w.top().stream().map(e -> e.value).toList();
  }
}
