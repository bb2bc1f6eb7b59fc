package dev.sluice.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;

/**
 * A direct peer's client address and {@code ip} identity as the address cache builds them — the
 * identity's key written from the address bytes, the text formatted only when asked — read exactly
 * as the plain constructors' would: same text as {@code getHostAddress()}, same key, value,
 * equality and hash.
 */
class DirectPeerProperties {
  private static final IdentitySpec IP = new IdentitySpec(IdentityKind.IP, null);

  @Property(tries = 3000)
  void formatV4_isTheJdksDottedQuad(@ForAll @Size(4) byte[] bytes) throws UnknownHostException {
    String jdk = InetAddress.getByAddress(bytes).getHostAddress();
    assertThat(IpLiteral.formatV4("", bytes)).isEqualTo(jdk);
    assertThat(IpLiteral.formatV4("ip:", bytes)).isEqualTo("ip:" + jdk);
  }

  @Property(tries = 3000)
  void directIpv4Peer_readsAsTheConstructedOne(@ForAll @Size(4) byte[] bytes, @ForAll boolean textFirst)
      throws UnknownHostException {
    InetAddress peer = InetAddress.getByAddress(bytes);
    String text = peer.getHostAddress();
    IdentityResolver resolver = IdentityResolver.builder().build();
    ClientAddress direct = resolver.clientAddress(TestRequest.from(text));
    Identity ip = resolver.ipIdentity(direct);
    if (textFirst) {
      assertThat(direct.forwardedFor()).isEqualTo(text);
      assertThat(ip.value()).isEqualTo(text);
    }
    ClientAddress constructed = new ClientAddress(peer, text);
    Identity valued = new Identity(IP, text);
    assertThat(direct).isEqualTo(constructed).hasSameHashCodeAs(constructed).hasToString(constructed.toString());
    assertThat(constructed).isEqualTo(direct);
    assertThat(direct.clientText()).isEqualTo(text);
    assertThat(ip).isEqualTo(valued).hasSameHashCodeAs(valued).hasToString(valued.toString());
    assertThat(valued).isEqualTo(ip);
    assertThat(ip.key()).isEqualTo(valued.key()).isEqualTo("ip:" + text);
    assertThat(ip.value()).isEqualTo(text);
    // The same peer again is the cached instance, its identity too.
    assertThat(resolver.clientAddress(TestRequest.from(text))).isSameAs(direct);
    assertThat(resolver.ipIdentity(direct)).isSameAs(ip);
  }

  @Example
  void ofKey_refusesAKeyOfAnotherSpec() {
    assertThatThrownBy(() -> Identity.ofKey(IP, "header:X:1")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Identity.ofKey(IP, "ip")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Identity.ofKey(IP, "ipv6:1")).isInstanceOf(IllegalArgumentException.class);
    assertThat(Identity.ofKey(IP, "ip:").value()).isEmpty();
  }
}
