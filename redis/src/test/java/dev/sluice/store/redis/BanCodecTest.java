package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.store.Ban;
import org.junit.jupiter.api.Test;

class BanCodecTest {

  @Test
  void encode_thenDecode_roundTripsAnyText() {
    Ban ban = Ban.of("we:ird{7}", "header:X-Team:12:3:a\nb", 1_700_000_000_123L, "5 offences; 1:2 ✓");

    String encoded = BanCodec.encode(ban);

    assertThat(encoded).isEqualTo("1700000000123:9:we:ird{7}22:header:X-Team:12:3:a\nb5 offences; 1:2 ✓");
    assertThat(BanCodec.decode(encoded)).isEqualTo(ban);
  }

  @Test
  void encode_allPoliciesScopeAndEmptyReason_roundTrips() {
    Ban ban = Ban.of(Ban.ALL_POLICIES, "ip:203.0.113.7", Long.MAX_VALUE, "");

    assertThat(BanCodec.decode(BanCodec.encode(ban))).isEqualTo(ban);
  }

  @Test
  void encode_penaltyBan_isPrefixedWithItsPolicyAndRoundTrips() {
    Ban ban = Ban.penalty("login-failures", Ban.ALL_POLICIES, "ip:203.0.113.7", 1_700_000_000_123L, "offence 2");

    String encoded = BanCodec.encode(ban);

    assertThat(encoded).isEqualTo("p14:login-failures1700000000123:1:*14:ip:203.0.113.7offence 2");
    assertThat(BanCodec.decode(encoded)).isEqualTo(ban);
    assertThat(BanCodec.decode(encoded).byOperator()).isFalse();
    assertThat(BanCodec.decode(BanCodec.encode(Ban.of("*", "ip:1", 5, "r"))).byOperator())
        .as("an operator's ban, and every ban stored before bans had an issuer").isTrue();
  }

  @Test
  void decode_truncatedValue_failsNamingItAndTheFormat() {
    assertThatThrownBy(() -> BanCodec.decode("1700000000123:9:we"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("stored ban '1700000000123:9:we' is malformed; expected"
            + " <expiresAtMillis>:<length>:<scope><length>:<identity><reason>");
  }
}
