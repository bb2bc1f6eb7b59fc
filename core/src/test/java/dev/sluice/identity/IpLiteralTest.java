package dev.sluice.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet4Address;
import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class IpLiteralTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "0.0.0.0, 0.0.0.0",
      "192.0.2.1, 192.0.2.1",
      "255.255.255.255, 255.255.255.255",
      "::, ::",
      "::1, ::1",
      "2001:db8::1, 2001:db8::1",
      "2001:DB8:0:0:0:0:0:1, 2001:db8::1",
      "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
      "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
      "1:0:0:2:0:0:0:3, 1:0:0:2::3",
      "fe80::, fe80::",
      "::ffff:192.0.2.1, 192.0.2.1",
      "::ffff:c000:0201, 192.0.2.1",
      "64:ff9b::192.0.2.1, 64:ff9b::c000:201",
      "1:2:3:4:5:6:7:8, 1:2:3:4:5:6:7:8",
  })
  void parse_validLiteral_formatsCanonically(String literal, String canonical) {
    InetAddress address = IpLiteral.parse(literal);
    assertThat(address).isNotNull();
    assertThat(IpLiteral.format(address)).isEqualTo(canonical);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      "", "localhost", "example.com", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.-4", "1..2.3",
      "1.2.3.4 ", "::1::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":1::", "1::2::3", "12345::", "g::1",
      "fe80::1%eth0", "[::1]", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4", "١.٢.٣.٤"})
  void parse_invalidLiteral_isNull(String literal) {
    assertThat(IpLiteral.parse(literal)).isNull();
  }

  @org.junit.jupiter.api.Test
  void normalise_mappedInet6Address_becomesIpv4() {
    byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, 10, 1, 2, 3};
    InetAddress peer = TestRequest.fromInet6(mapped).peerAddress();
    assertThat(IpLiteral.normalise(peer)).isInstanceOf(Inet4Address.class);
    assertThat(IpLiteral.format(peer)).isEqualTo("10.1.2.3");
  }
}
