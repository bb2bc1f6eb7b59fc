package dev.sluice.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The trusted-proxy walk on hostile header content: never throws, never invents an address. */
class ClientAddressProperties {
  private static final CidrSet PROXIES = CidrSet.of(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("fd00::/8")));

  @Provide
  Arbitrary<String> headerLines() {
    return Arbitraries.oneOf(
            Arbitraries.of("10.0.0.5", "198.51.100.7", "fd00::1", "2001:db8::1", "[2001:db8::1]:80", "1.2.3.4:99",
                "for=", "for=10.0.0.2", "for=\"[2001:db8::2]:1\"", "for=unknown", "_x", ";", ",", "\"", "\\", " ",
                "::ffff:10.0.0.1", "999.1.1.1", "localhost", "[", "]", ":", "proto=http"),
            Arbitraries.strings().ofMaxLength(4))
        .list().ofMaxSize(10).map(parts -> String.join("", parts));
  }

  @Property(tries = 2000)
  void clientAddress_anyHeader_neverThrowsAndClientIsPeerOrReported(
      @ForAll("headerLines") String line1, @ForAll("headerLines") String line2,
      @ForAll IpHeader header, @ForAll boolean peerTrusted) {
    IdentityResolver resolver = IdentityResolver.builder().trustedProxies(PROXIES).ipHeader(header).build();
    String peer = peerTrusted ? "10.0.0.1" : "203.0.113.9";
    TestRequest request = TestRequest.from(peer);
    for (String name : List.of("X-Forwarded-For", "Forwarded", "X-Real-IP")) {
      request.header(name, line1).header(name, line2);
    }
    ClientAddress address = resolver.clientAddress(request);
    assertThat(address.forwardedFor()).endsWith(peer).startsWith(address.clientText());
    if (!peerTrusted || header == IpHeader.NONE) {
      assertThat(address.clientText()).isEqualTo(peer);
      assertThat(address.forwardedFor()).isEqualTo(peer);
    }
    // Every hop between the client and the peer is a trusted proxy.
    String[] hops = address.forwardedFor().split(", ");
    for (int i = 1; i < hops.length; i++) {
      assertThat(PROXIES.contains(IpLiteral.parse(hops[i]))).as(hops[i]).isTrue();
    }
  }
}
