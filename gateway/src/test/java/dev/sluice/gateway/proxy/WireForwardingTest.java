package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Through a real gateway, below any HTTP library on both sides: the bytes the upstream reads for a
 * client's request and the bytes the client reads for the upstream's response, exactly. Folded,
 * repeated, hop-by-hop and forged fields, an interim response, {@code HEAD}, chunked framing and an
 * HTTP/1.0 client (UpstreamHeadsTest compares the same writers with Netty's encoders case by case).
 */
@Timeout(30)
class WireForwardingTest {
  private ScriptedUpstream upstream;
  private GatewayFixture fixture;

  @BeforeEach
  void start() throws Exception {
    upstream = new ScriptedUpstream(Map.of(
        "/e2e?x=1", "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Int\r\nX-Int: 1\r\nKeep-Alive: timeout=5\r\n"
            + "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok",
        "/e2e-head", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n",
        "/api/search", "HTTP/1.1 200 OK\r\nRateLimit: \"forged\";r=99;t=0\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "3\r\nabc\r\n0\r\n\r\n",
        "/e2e-10", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"));
    fixture = new GatewayFixture(upstream.port(), "5s");
  }

  @AfterEach
  void stop() throws Exception {
    fixture.close();
    upstream.close();
  }

  @Test
  void keepAliveConnection_requestAndResponseBytes_areExactlyTheForwardedForm() throws Exception {
    try (RawConnection client = new RawConnection(fixture.address())) {
      client.send("GET /e2e?x=1 HTTP/1.1\r\nHost: api.example\r\nConnection: X-Hop\r\nX-Hop: 1\r\n"
          + "X-Folded: a\r\n b\r\nAccept: x\r\nAccept: y\r\nX-Forwarded-For: 6.6.6.6\r\nTE: trailers\r\n\r\n");
      String first = "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok";
      assertThat(client.readBytes(first.length())).isEqualTo(first);

      client.send("HEAD /e2e-head HTTP/1.1\r\nHost: a\r\n\r\n");
      String second = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n";
      assertThat(client.readBytes(second.length())).isEqualTo(second);

      client.send("GET /api/search HTTP/1.1\r\nHost: a\r\n\r\n");
      String third = "HTTP/1.1 200 OK\r\nRateLimit-Policy: \"search\";q=5;w=60\r\nRateLimit: \"search\";r=4;t=12\r\n"
          + "transfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
      assertThat(client.readBytes(third.length())).isEqualTo(third);
      assertThat(client.closedByServer()).isFalse();
    }
    assertThat(upstream.heads()).containsExactly(
        "GET /e2e?x=1 HTTP/1.1\r\nHost: api.example\r\nX-Folded: a b\r\nAccept: x\r\nAccept: y\r\n"
            + "X-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: api.example\r\n\r\n",
        "HEAD /e2e-head HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\n"
            + "X-Forwarded-Host: a\r\n\r\n",
        "GET /api/search HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\n"
            + "X-Forwarded-Host: a\r\n\r\n");
  }

  @Test
  void http10Client_withoutHost_getsTheBodyUntilCloseAndTheUpstreamGetsAHost() throws Exception {
    try (RawConnection client = new RawConnection(fixture.address())) {
      client.send("GET /e2e-10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      String expected = "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nhi";
      assertThat(client.readBytes(expected.length())).isEqualTo(expected);
      assertThat(client.closedByServer()).isTrue();
    }
    assertThat(upstream.heads()).containsExactly("GET /e2e-10 HTTP/1.1\r\nX-Forwarded-For: 127.0.0.1\r\n"
        + "X-Forwarded-Proto: http\r\nhost: 127.0.0.1:" + upstream.port() + "\r\n\r\n");
  }
}
