package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.gateway.transport.Transports;
import dev.sluice.gateway.transport.Transports.Kind;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The gateway on each transport {@code sluice.transport} can pick: requests forwarded with their
 * bodies over kept-alive connections, refusals past the limit, the upstream's hash of each body
 * checked, and a prompt close after a cut-off forwarded body (the case that left an io_uring loop
 * unable to stop). A transport this machine does not offer is checked the
 * other way: asking for it fails the start with a message naming why.
 */
// A separate thread: a close that never returns (an unbounded wait for an io_uring loop) fails the
// test instead of hanging the suite.
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TransportsEndToEndTest {
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    System.clearProperty(Transports.PROPERTY);
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private static boolean offered(Kind kind) {
    return switch (kind) {
      case IO_URING -> IoUring.isAvailable();
      case EPOLL -> Epoll.isAvailable();
      case NIO -> true;
    };
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void eachTransport_forwardsRefusesAndKeepsConnections_orRefusesToStartWhenNotOffered(Kind kind) throws Exception {
    TestUpstream upstream = TestUpstream.start();
    open.add(upstream);
    System.setProperty(Transports.PROPERTY, kind.label());
    if (!offered(kind)) {
      System.out.printf("%s is not offered here: checking that asking for it fails the start%n", kind.label());
      assertThatThrownBy(() -> new GatewayFixture(upstream.port(), "5s"))
          .hasMessageContaining("sluice.transport=" + kind.label() + ", but")
          .hasMessageContaining("not available here");
      return;
    }
    GatewayFixture fixture = new GatewayFixture(upstream.port(), "5s");
    open.add(fixture);
    assertThat(fixture.gateway.transport()).isEqualTo(kind);

    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      statuses.add(fixture.client.send(HttpRequest.newBuilder(fixture.uri("/api/search?i=" + i)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode());
    }
    assertThat(statuses).containsExactly(200, 200, 200, 200, 200, 429);

    byte[] body = TestUpstream.bytes(200_000, 7);
    HttpResponse<Void> posted = fixture.client.send(HttpRequest.newBuilder(fixture.uri("/limited"))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding());
    assertThat(posted.statusCode()).isEqualTo(200);
    assertThat(posted.headers().firstValue("X-Body-Sha256")).hasValue(TestUpstream.sha256(body));
    assertThat(fixture.client.send(HttpRequest.newBuilder(fixture.uri("/limited"))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding())
        .statusCode()).isEqualTo(429);

    assertThat(upstream.received()).hasSize(6);
    long closeMillis;
    assertThat(upstream.connections()).as("upstream connections kept alive and reused").isEqualTo(1);

    // A forwarded chunked body cut off by a malformed chunk: 400, both connections closed. On
    // io_uring (Netty 4.2.18) the upstream connection, closed while the body's write was in flight,
    // re-armed a read that nothing cancelled, and one event loop never finished shutting down
    // (Gateway.close then waited out its 10 s bound): IoUringCloseGuard.
    try (RawConnection connection = new RawConnection(fixture.address())) {
      connection.send("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n\r\n");
      assertThat(connection.read().status()).isEqualTo(400);
    }
    // Kept-alive connections that stay silent through the close (the client's and, behind it, the
    // upstream's): a read pending on them when the loops shut down was the other way into the hang.
    try (RawConnection idle = new RawConnection(fixture.address())) {
      idle.send("GET /free HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(idle.read().status()).isEqualTo(200);
      long start = System.nanoTime();
      open.remove(fixture);
      fixture.close();
      closeMillis = (System.nanoTime() - start) / 1_000_000;
    }
    System.out.printf("%s: the gateway closed in %d ms%n", kind.label(), closeMillis);
    assertThat(closeMillis).as("close on %s (ms)", kind.label()).isLessThan(5_000);
  }

  @Test
  void auto_isTheBestTransportOffered() throws Exception {
    TestUpstream upstream = TestUpstream.start();
    open.add(upstream);
    GatewayFixture fixture = new GatewayFixture(upstream.port(), "5s");
    open.add(fixture);
    assertThat(fixture.gateway.transport())
        .isEqualTo(IoUring.isAvailable() ? Kind.IO_URING : Epoll.isAvailable() ? Kind.EPOLL : Kind.NIO);
  }
}
