package dev.sluice.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The trusted-proxy walk of {@link IdentityResolver#clientAddress}, as a table. */
class ClientAddressTest {
  private static final String PROXIES = "10.0.0.0/8,2001:db8:ffff::/48";
  private static final String NO_HEADER = null;

  private static Arguments row(String name, String trusted, IpHeader header, String peer,
      List<String> lines, String client, String forwardedFor) {
    return Arguments.of(name, trusted, header, peer, lines, client, forwardedFor);
  }

  static Stream<Arguments> table() {
    IpHeader xff = IpHeader.X_FORWARDED_FOR;
    IpHeader fwd = IpHeader.FORWARDED;
    IpHeader real = IpHeader.X_REAL_IP;
    return Stream.of(
        row("untrusted peer, no header", PROXIES, xff, "203.0.113.5", List.of(), "203.0.113.5", "203.0.113.5"),
        row("spoofed XFF from untrusted peer is ignored", PROXIES, xff, "203.0.113.5",
            List.of("1.2.3.4"), "203.0.113.5", "203.0.113.5"),
        row("no trusted proxies configured: header ignored", "", xff, "10.0.0.1",
            List.of("1.2.3.4"), "10.0.0.1", "10.0.0.1"),
        row("trusted peer, no header: peer is client", PROXIES, xff, "10.0.0.1", List.of(), "10.0.0.1", "10.0.0.1"),
        row("one hop", PROXIES, xff, "10.0.0.1", List.of("198.51.100.7"), "198.51.100.7", "198.51.100.7, 10.0.0.1"),
        row("multi-hop, spoofed left part dropped", PROXIES, xff, "10.0.0.1",
            List.of("6.6.6.6, 198.51.100.7, 10.0.0.9, 10.0.0.8"), "198.51.100.7",
            "198.51.100.7, 10.0.0.9, 10.0.0.8, 10.0.0.1"),
        row("several XFF lines are one list", PROXIES, xff, "10.0.0.1",
            List.of("6.6.6.6, 198.51.100.7", "10.0.0.9"), "198.51.100.7", "198.51.100.7, 10.0.0.9, 10.0.0.1"),
        row("all trusted: left-most", PROXIES, xff, "10.0.0.1", List.of("10.0.0.3, 10.0.0.2"),
            "10.0.0.3", "10.0.0.3, 10.0.0.2, 10.0.0.1"),
        row("malformed entry stops the walk at the last good address", PROXIES, xff, "10.0.0.1",
            List.of("198.51.100.7, garbage, 10.0.0.9"), "10.0.0.9", "10.0.0.9, 10.0.0.1"),
        row("malformed right-most entry: peer", PROXIES, xff, "10.0.0.1", List.of("198.51.100.7, nope"),
            "10.0.0.1", "10.0.0.1"),
        row("empty entry is malformed", PROXIES, xff, "10.0.0.1", List.of("198.51.100.7,,10.0.0.9"),
            "10.0.0.9", "10.0.0.9, 10.0.0.1"),
        row("host name is malformed, never resolved", PROXIES, xff, "10.0.0.1", List.of("localhost"),
            "10.0.0.1", "10.0.0.1"),
        row("XFF IPv4 with port", PROXIES, xff, "10.0.0.1", List.of("198.51.100.7:4711"),
            "198.51.100.7", "198.51.100.7, 10.0.0.1"),
        row("XFF bare IPv6", PROXIES, xff, "10.0.0.1", List.of("2001:DB8:1:2::99"),
            "2001:db8:1:2::99", "2001:db8:1:2::99, 10.0.0.1"),
        row("XFF bracketed IPv6 with port", PROXIES, xff, "10.0.0.1", List.of("[2001:db8:1:2::99]:443"),
            "2001:db8:1:2::99", "2001:db8:1:2::99, 10.0.0.1"),
        row("XFF IPv4-mapped entry is IPv4 and trusted", PROXIES, xff, "10.0.0.1",
            List.of("198.51.100.7, ::ffff:10.0.0.5"), "198.51.100.7", "198.51.100.7, 10.0.0.5, 10.0.0.1"),
        row("IPv6 trusted peer", PROXIES, xff, "2001:db8:ffff::1", List.of("198.51.100.7"),
            "198.51.100.7", "198.51.100.7, 2001:db8:ffff::1"),
        row("IPv4-mapped peer is trusted as IPv4", PROXIES, xff, "::ffff:10.0.0.1", List.of("198.51.100.7"),
            "198.51.100.7", "198.51.100.7, 10.0.0.1"),
        row("Forwarded simple", PROXIES, fwd, "10.0.0.1", List.of("for=192.0.2.60;proto=http;by=203.0.113.43"),
            "192.0.2.60", "192.0.2.60, 10.0.0.1"),
        row("Forwarded quoted IPv6 with port", PROXIES, fwd, "10.0.0.1",
            List.of("for=\"[2001:db8:cafe::17]:4711\""), "2001:db8:cafe::17", "2001:db8:cafe::17, 10.0.0.1"),
        row("Forwarded quoted IPv4 with port, case-insensitive name", PROXIES, fwd, "10.0.0.1",
            List.of("For=\"192.0.2.60:8080\""), "192.0.2.60", "192.0.2.60, 10.0.0.1"),
        row("Forwarded multi-hop in one line", PROXIES, fwd, "10.0.0.1",
            List.of("for=198.51.100.1, for=192.0.2.43, for=10.0.0.7"), "192.0.2.43", "192.0.2.43, 10.0.0.7, 10.0.0.1"),
        row("Forwarded multi-hop over lines", PROXIES, fwd, "10.0.0.1",
            List.of("for=198.51.100.1", "for=192.0.2.43;proto=\"https\"", "for=10.0.0.7"),
            "192.0.2.43", "192.0.2.43, 10.0.0.7, 10.0.0.1"),
        row("Forwarded comma inside quotes is not a separator", PROXIES, fwd, "10.0.0.1",
            List.of("for=192.0.2.43;host=\"a,b\""), "192.0.2.43", "192.0.2.43, 10.0.0.1"),
        row("Forwarded unknown stops the walk", PROXIES, fwd, "10.0.0.1",
            List.of("for=192.0.2.43, for=unknown, for=10.0.0.7"), "10.0.0.7", "10.0.0.7, 10.0.0.1"),
        row("Forwarded obfuscated stops the walk", PROXIES, fwd, "10.0.0.1",
            List.of("for=192.0.2.43, for=_hidden"), "10.0.0.1", "10.0.0.1"),
        row("Forwarded obfuscated port is fine", PROXIES, fwd, "10.0.0.1",
            List.of("for=\"192.0.2.43:_p1\""), "192.0.2.43", "192.0.2.43, 10.0.0.1"),
        row("Forwarded unbracketed IPv6 is malformed", PROXIES, fwd, "10.0.0.1",
            List.of("for=2001:db8::1"), "10.0.0.1", "10.0.0.1"),
        row("Forwarded element without for= stops the walk", PROXIES, fwd, "10.0.0.1",
            List.of("for=192.0.2.43, proto=https"), "10.0.0.1", "10.0.0.1"),
        row("Forwarded broken quoting is malformed", PROXIES, fwd, "10.0.0.1",
            List.of("for=\"192.0.2.43"), "10.0.0.1", "10.0.0.1"),
        row("Forwarded ignores X-Forwarded-For", PROXIES, fwd, "10.0.0.1", List.of(), "10.0.0.1", "10.0.0.1"),
        row("X-Real-IP", PROXIES, real, "10.0.0.1", List.of("198.51.100.7"), "198.51.100.7", "198.51.100.7, 10.0.0.1"),
        row("X-Real-IP trusted value: it is the left-most", PROXIES, real, "10.0.0.1", List.of("10.0.0.3"),
            "10.0.0.3", "10.0.0.3, 10.0.0.1"),
        row("X-Real-IP list is malformed", PROXIES, real, "10.0.0.1", List.of("1.1.1.1, 2.2.2.2"), "10.0.0.1", "10.0.0.1"),
        row("X-Real-IP several lines are malformed", PROXIES, real, "10.0.0.1", List.of("1.1.1.1", "2.2.2.2"),
            "10.0.0.1", "10.0.0.1"),
        row("X-Real-IP from untrusted peer ignored", PROXIES, real, "203.0.113.5", List.of("1.1.1.1"),
            "203.0.113.5", "203.0.113.5"),
        row("ip_header none ignores headers", PROXIES, IpHeader.NONE, "10.0.0.1", List.of("1.1.1.1"),
            "10.0.0.1", "10.0.0.1"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void clientAddress_table(String name, String trusted, IpHeader header, String peer, List<String> lines,
      String client, String forwardedFor) {
    CidrSet proxies = trusted.isEmpty() ? CidrSet.empty()
        : CidrSet.of(Arrays.stream(trusted.split(",")).map(Cidr::parse).toList());
    IdentityResolver resolver = IdentityResolver.builder().trustedProxies(proxies).ipHeader(header).build();
    TestRequest request = TestRequest.from(peer);
    String headerName = header == IpHeader.NONE ? "X-Forwarded-For" : header.headerName();
    for (String line : lines) {
      request.header(headerName, line);
    }
    // A header the configuration does not name is always ignored.
    if (header != IpHeader.X_FORWARDED_FOR) {
      request.header("X-Forwarded-For", "9.9.9.9");
    }
    ClientAddress address = resolver.clientAddress(request);
    assertThat(address.clientText()).isEqualTo(client);
    assertThat(address.forwardedFor()).isEqualTo(forwardedFor);
  }

  @Test
  void clientAddress_mappedInet6Peer_isIpv4Client() {
    byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 203, 0, 113, 5};
    ClientAddress address = IdentityResolver.builder().build().clientAddress(TestRequest.fromInet6(mapped));
    assertThat(address.client()).isEqualTo(IpLiteral.parse("203.0.113.5"));
    assertThat(address.forwardedFor()).isEqualTo("203.0.113.5");
  }
}
