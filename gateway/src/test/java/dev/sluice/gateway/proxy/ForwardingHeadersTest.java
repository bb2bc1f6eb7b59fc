package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.identity.ClientAddress;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class ForwardingHeadersTest {
  private static final InetAddress PEER = address("10.0.0.5");

  private static InetAddress address(String text) {
    try {
      return InetAddress.getByName(text);
    } catch (java.net.UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void upstreamRequest_untrustedPeer_dropsClientClaimsAndSetsForwardingFields() {
    HttpHeaders client = new DefaultHttpHeaders()
        .add("Host", "api.example")
        .add("X-Forwarded-For", "1.2.3.4")
        .add("X-Forwarded-Proto", "https")
        .add("X-Forwarded-Host", "evil.example")
        .add("Forwarded", "for=1.2.3.4")
        .add("X-Real-IP", "1.2.3.4")
        .add("Accept", "text/plain");

    HttpHeaders out = ForwardingHeaders.upstreamRequest(client, new ClientAddress(PEER, "10.0.0.5"), false);

    assertThat(out.getAll("X-Forwarded-For")).containsExactly("10.0.0.5");
    assertThat(out.get("X-Forwarded-Proto")).isEqualTo("http");
    assertThat(out.get("X-Forwarded-Host")).isEqualTo("api.example");
    assertThat(out.get("Host")).isEqualTo("api.example");
    assertThat(out.get("Accept")).isEqualTo("text/plain");
    assertThat(out.contains("Forwarded")).isFalse();
    assertThat(out.contains("X-Real-IP")).isFalse();
  }

  @Test
  void upstreamRequest_trustedPeer_keepsItsClaimsAndUsesEngineChain() {
    HttpHeaders client = new DefaultHttpHeaders()
        .add("Host", "api.example")
        .add("X-Forwarded-For", "9.9.9.9, 1.2.3.4")
        .add("X-Forwarded-Proto", "https")
        .add("X-Real-IP", "1.2.3.4");

    HttpHeaders out = ForwardingHeaders.upstreamRequest(
        client, new ClientAddress(address("1.2.3.4"), "1.2.3.4, 10.0.0.5"), true);

    assertThat(out.getAll("X-Forwarded-For")).containsExactly("1.2.3.4, 10.0.0.5");
    assertThat(out.get("X-Forwarded-Proto")).isEqualTo("https");
    assertThat(out.get("X-Real-IP")).isEqualTo("1.2.3.4");
  }

  @Test
  void upstreamRequest_removesHopByHopAndConnectionListedFields() {
    HttpHeaders client = new DefaultHttpHeaders()
        .add("Connection", "keep-alive, X-Hop")
        .add("X-Hop", "1")
        .add("Keep-Alive", "timeout=5")
        .add("Transfer-Encoding", "chunked")
        .add("Upgrade", "h2c")
        .add("Proxy-Authorization", "Basic eA==")
        .add("Expect", "100-continue")
        .add("X-Kept", "yes");

    HttpHeaders out = ForwardingHeaders.upstreamRequest(client, new ClientAddress(PEER, "10.0.0.5"), false);

    assertThat(out.names()).containsExactlyInAnyOrder("X-Kept", "X-Forwarded-For", "X-Forwarded-Proto");
  }

  @Test
  void clientResponse_removesHopByHopFields() {
    HttpHeaders upstream = new DefaultHttpHeaders()
        .add("Connection", "close, X-Internal")
        .add("X-Internal", "1")
        .add("Transfer-Encoding", "chunked")
        .add("Content-Type", "application/json");

    assertThat(ForwardingHeaders.clientResponse(upstream).names()).containsExactly("Content-Type");
  }
}
