package dev.sluice.gateway.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BanApiTest {
  @Test
  void splitKey_plainHeaderIpv6AndComposite_separateKindFromValue() {
    assertThat(BanApi.splitKey("ip:203.0.113.7")).containsExactly("ip", "203.0.113.7");
    assertThat(BanApi.splitKey("ip:2001:db8:1:2::/64")).containsExactly("ip", "2001:db8:1:2::/64");
    assertThat(BanApi.splitKey("header:X-Tenant:0123456789abcdef")).containsExactly("header:X-Tenant", "0123456789abcdef");
    assertThat(BanApi.splitKey("ip+body:username:10.0.0.1+abcd")).containsExactly("ip+body:username", "10.0.0.1+abcd");
    assertThat(BanApi.splitKey("api_key:feedbeef")).containsExactly("api_key", "feedbeef");
  }

  @Test
  void duration_unitsAndRange() throws Exception {
    assertThat(BanApi.duration("10m")).isEqualTo(Duration.ofMinutes(10));
    assertThat(BanApi.duration("2d")).isEqualTo(Duration.ofDays(2));
    assertThatThrownBy(() -> BanApi.duration("500ms")).hasMessageContaining("out of range; expected 1s to 365d");
    assertThatThrownBy(() -> BanApi.duration("366d")).hasMessageContaining("out of range");
    assertThatThrownBy(() -> BanApi.duration("ten minutes"))
        .hasMessage("Field \"duration\": \"ten minutes\" is not a duration; expected a whole number and a unit"
            + " (ms, s, m, h, d), e.g. \"10m\".");
  }
}
