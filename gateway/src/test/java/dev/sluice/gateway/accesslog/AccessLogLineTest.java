package dev.sluice.gateway.accesslog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.engine.Decision;
import dev.sluice.gateway.response.Decisions;
import dev.sluice.identity.ClientAddress;
import dev.sluice.request.FixedRequest;
import dev.sluice.request.RequestView;
import java.net.InetAddress;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code client_ip} of an access log line: the canonical text, with or without a decision. */
class AccessLogLineTest {
  private static final Instant AT = Instant.parse("2026-12-07T17:00:00Z");

  @Test
  void anIpv6Client_isLoggedInItsCanonicalText_decidedOrNot() throws Exception {
    InetAddress v6 = InetAddress.getByName("2001:db8:0:0:0:0:0:7");
    RequestView request = new FixedRequest("GET", "/api/items", null, v6, Map.of());
    Decision decision = Decision.of(new ClientAddress(v6, "2001:db8::7"),
        List.of(Decisions.pd(Decisions.bursty(), Decisions.allowed(Decisions.status(19, 0)))));

    // RFC 5952, as in identities and X-Forwarded-For; getHostAddress() would give 2001:db8:0:0:0:0:0:7.
    assertThat(AccessLog.line(AccessLog.VIA_GATEWAY, AT, request, decision, false, 200, 1000).clientIp())
        .isEqualTo("2001:db8::7");
    assertThat(AccessLog.line(AccessLog.VIA_GATEWAY, AT, request, null, true, 503, AccessLog.NOT_FORWARDED).clientIp())
        .isEqualTo("2001:db8::7");
  }
}
