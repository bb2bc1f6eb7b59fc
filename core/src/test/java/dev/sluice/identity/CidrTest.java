package dev.sluice.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CidrTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "10.0.0.0/8, 10.0.0.0/8",
      "0.0.0.0/0, 0.0.0.0/0",
      "192.0.2.7, 192.0.2.7/32",
      "2001:db8::/32, 2001:db8::/32",
      "2001:DB8::1, 2001:db8::1/128",
      "::/0, ::/0",
      "::ffff:10.0.0.0/104, 10.0.0.0/8",
      "::ffff:192.0.2.1, 192.0.2.1/32",
  })
  void parse_valid_roundTrips(String text, String canonical) {
    assertThat(Cidr.parse(text)).hasToString(canonical);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', value = {
      "10.0.0.0/33|invalid CIDR \"10.0.0.0/33\": prefix length 33 is out of range 0..32",
      "2001:db8::/129|invalid CIDR \"2001:db8::/129\": prefix length 129 is out of range 0..128",
      "10.0.0.0/x|invalid CIDR \"10.0.0.0/x\": prefix length \"x\" is not a number in 0..32",
      "10.0.0.0/|invalid CIDR \"10.0.0.0/\": prefix length \"\" is not a number in 0..32",
      "10.0.0.0/-1|invalid CIDR \"10.0.0.0/-1\": prefix length \"-1\" is not a number in 0..32",
      "10.0.0.0/08|invalid CIDR \"10.0.0.0/08\": prefix length \"08\" is not a number in 0..32",
      "10.0.0.1/8|invalid CIDR \"10.0.0.1/8\": host bits are set; did you mean \"10.0.0.0/8\"?",
      "2001:db8::1/64|invalid CIDR \"2001:db8::1/64\": host bits are set; did you mean \"2001:db8::/64\"?",
      "example.com/8|invalid CIDR \"example.com/8\": \"example.com\" is not an IPv4 or IPv6 address; expected an address or network such as 10.0.0.0/8 or 2001:db8::/32",
      "::ffff:10.0.0.0/64|invalid CIDR \"::ffff:10.0.0.0/64\": an IPv4-mapped network needs a prefix length in 96..128, got 64",
  })
  void parse_invalid_hasDesignedMessage(String text, String message) {
    assertThatThrownBy(() -> Cidr.parse(text)).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
  }

  @Test
  void parse_empty_hasDesignedMessage() {
    assertThatThrownBy(() -> Cidr.parse(" "))
        .hasMessage("invalid CIDR \" \": it is empty; expected an address or network such as 10.0.0.0/8 or 2001:db8::/32");
  }

  @ParameterizedTest(name = "{0} contains {1}: {2}")
  @CsvSource({
      "10.0.0.0/8, 10.255.1.2, true",
      "10.0.0.0/8, 11.0.0.0, false",
      "10.0.0.0/8, ::ffff:10.1.1.1, true",
      "192.168.1.0/25, 192.168.1.127, true",
      "192.168.1.0/25, 192.168.1.128, false",
      "0.0.0.0/0, 203.0.113.9, true",
      "0.0.0.0/0, 2001:db8::1, false",
      "::/0, 203.0.113.9, false",
      "::/0, 2001:db8::1, true",
      "2001:db8::/32, 2001:db8:ffff::1, true",
      "2001:db8::/32, 2001:db9::1, false",
      "192.0.2.1, 192.0.2.1, true",
      "192.0.2.1, 192.0.2.2, false",
      "::ffff:10.0.0.0/104, 10.9.9.9, true",
  })
  void contains_table(String cidr, String address, boolean expected) {
    assertThat(Cidr.parse(cidr).contains(IpLiteral.parse(address))).isEqualTo(expected);
  }

  @Test
  void contains_mappedInet6Peer_isTreatedAsIpv4() {
    byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, 10, 1, 2, 3};
    assertThat(Cidr.parse("10.0.0.0/8").contains(TestRequest.fromInet6(mapped).peerAddress())).isTrue();
  }

  @Test
  void cidrSet_containsAnyMember() {
    CidrSet set = CidrSet.of(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("2001:db8::/32")));
    assertThat(set.isEmpty()).isFalse();
    assertThat(set.contains(IpLiteral.parse("10.1.1.1"))).isTrue();
    assertThat(set.contains(IpLiteral.parse("2001:db8::5"))).isTrue();
    assertThat(set.contains(IpLiteral.parse("192.0.2.1"))).isFalse();
    assertThat(CidrSet.empty().isEmpty()).isTrue();
    assertThat(CidrSet.empty().contains(IpLiteral.parse("10.1.1.1"))).isFalse();
    assertThat(CidrSet.of(List.of())).isEqualTo(CidrSet.empty());
  }

  @Test
  void ipHeader_configNames_roundTrip() {
    for (IpHeader h : IpHeader.values()) {
      assertThat(IpHeader.fromConfigName(h.configName())).isEqualTo(h);
    }
    assertThatThrownBy(() -> IpHeader.fromConfigName("X-Forwarded-For"))
        .hasMessage("unknown ip_header \"X-Forwarded-For\"; expected one of x-forwarded-for, forwarded, x-real-ip, none");
  }
}
