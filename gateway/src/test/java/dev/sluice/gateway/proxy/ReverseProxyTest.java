package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The gateway as a reverse proxy over real sockets, in front of {@link TestUpstream}. */
@Timeout(30)
class ReverseProxyTest {
  private TestUpstream upstream;
  private GatewayFixture fixture;

  @BeforeEach
  void start() throws Exception {
    upstream = TestUpstream.start();
    fixture = new GatewayFixture(upstream.port(), "2s");
  }

  @AfterEach
  void stop() {
    if (fixture != null) {
      fixture.close();
    }
    upstream.close();
  }

  private HttpResponse<String> get(String target) throws Exception {
    return fixture.client.send(HttpRequest.newBuilder(fixture.uri(target)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void limitedRoute_overLimit_gets429AndNeverReachesUpstream() throws Exception {
    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      statuses.add(get("/api/search?q=" + i).statusCode());
    }

    assertThat(statuses).containsExactly(200, 200, 200, 200, 200, 429);
    assertThat(upstream.uris()).containsExactly(
        "/api/search?q=0", "/api/search?q=1", "/api/search?q=2", "/api/search?q=3", "/api/search?q=4");
  }

  @Test
  void limitedResponse_carriesRetryAfterRateLimitFieldsAndProblemBody() throws Exception {
    HttpResponse<String> allowed = get("/api/search");
    for (int i = 0; i < 4; i++) {
      get("/api/search");
    }
    HttpResponse<String> limited = get("/api/search");

    assertThat(allowed.headers().firstValue("RateLimit")).isPresent();
    assertThat(allowed.headers().firstValue("RateLimit-Policy")).hasValueSatisfying(v -> assertThat(v).contains("\"search\""));
    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(limited.headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isPositive());
    assertThat(limited.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(limited.body()).contains("quota-exceeded").contains("search");
  }

  @Test
  void sequentialRequests_reuseOneUpstreamConnection() throws Exception {
    for (int i = 0; i < 10; i++) {
      assertThat(get("/items/" + i).statusCode()).isEqualTo(200);
    }

    assertThat(upstream.received()).hasSize(10);
    assertThat(upstream.connections()).isEqualTo(1);
  }

  @Test
  void clientConnection_keepsAliveAcrossRequestsAndRejections() throws Exception {
    try (RawConnection connection = new RawConnection(fixture.address())) {
      List<Integer> statuses = new ArrayList<>();
      for (int i = 0; i < 7; i++) {
        connection.send("GET /api/search?n=" + i + " HTTP/1.1\r\nHost: example.test\r\n\r\n");
        statuses.add(connection.read().status());
      }

      assertThat(statuses).containsExactly(200, 200, 200, 200, 200, 429, 429);
      assertThat(upstream.connections()).isEqualTo(1);
    }
  }

  @Test
  void pipelinedRequests_areAnsweredInOrder() throws Exception {
    try (RawConnection connection = new RawConnection(fixture.address())) {
      connection.send(
          "GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\nGET /third HTTP/1.1\r\nHost: a\r\n\r\n");

      assertThat(connection.read().text()).isEqualTo("seen /slow\n");
      assertThat(connection.read().text()).isEqualTo("seen /second\n");
      assertThat(connection.read().text()).isEqualTo("seen /third\n");
    }
  }

  @Test
  void megabyteRequestBody_streamsToUpstreamIntact() throws Exception {
    byte[] body = TestUpstream.bytes(1024 * 1024, 7);

    HttpResponse<String> fixed = fixture.client.send(
        HttpRequest.newBuilder(fixture.uri("/upload")).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> chunked = fixture.client.send(
        HttpRequest.newBuilder(fixture.uri("/upload"))
            .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)))
            .build(),
        HttpResponse.BodyHandlers.ofString());

    assertThat(fixed.statusCode()).isEqualTo(200);
    assertThat(fixed.headers().firstValue("X-Body-Sha256")).hasValue(TestUpstream.sha256(body));
    assertThat(chunked.statusCode()).isEqualTo(200);
    assertThat(chunked.headers().firstValue("X-Body-Sha256")).hasValue(TestUpstream.sha256(body));
    assertThat(upstream.received()).extracting(TestUpstream.Received::bodyLength).containsExactly(body.length, body.length);
  }

  @Test
  void megabyteResponseBody_streamsToClientIntact() throws Exception {
    HttpResponse<byte[]> response = fixture.client.send(
        HttpRequest.newBuilder(fixture.uri("/big")).GET().build(), HttpResponse.BodyHandlers.ofByteArray());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).hasSize(TestUpstream.BIG_SIZE);
    assertThat(TestUpstream.sha256(response.body())).isEqualTo(TestUpstream.sha256(TestUpstream.BIG));
  }

  @Test
  void headRequest_getsHeadersWithoutBodyAndConnectionStaysUsable() throws Exception {
    try (RawConnection connection = new RawConnection(fixture.address())) {
      connection.send("HEAD /items HTTP/1.1\r\nHost: a\r\n\r\n");
      RawConnection.Response head = connection.read(true);
      connection.send("GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
      RawConnection.Response after = connection.read();

      assertThat(head.status()).isEqualTo(200);
      assertThat(after.text()).isEqualTo("seen /after\n");
    }
  }

  @Test
  void hopByHopHeaders_areNotForwarded() throws Exception {
    try (RawConnection connection = new RawConnection(fixture.address())) {
      connection.send(
          "GET /headers HTTP/1.1\r\nHost: public.example\r\nConnection: keep-alive, X-Secret-Hop\r\n"
              + "X-Secret-Hop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Authorization: Basic eA==\r\n"
              + "Upgrade: websocket\r\nX-End-To-End: kept\r\n\r\n");
      assertThat(connection.read().status()).isEqualTo(200);
    }

    var headers = upstream.received().get(0).headers();
    assertThat(headers.get("X-End-To-End")).isEqualTo("kept");
    assertThat(headers.get("Host")).isEqualTo("public.example");
    assertThat(headers.get("X-Forwarded-Host")).isEqualTo("public.example");
    assertThat(headers.get("X-Forwarded-Proto")).isEqualTo("http");
    for (String hop : List.of("X-Secret-Hop", "Keep-Alive", "TE", "Proxy-Authorization", "Upgrade")) {
      assertThat(headers.contains(hop)).as(hop).isFalse();
    }
  }

  @Test
  void spoofedForwardingHeaders_fromUntrustedPeer_changeNeitherIdentityNorWhatUpstreamSees() throws Exception {
    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      HttpRequest request = HttpRequest.newBuilder(fixture.uri("/api/search"))
          .header("X-Forwarded-For", "203.0.113." + i)
          .header("X-Real-IP", "203.0.113." + i)
          .header("Forwarded", "for=203.0.113." + i)
          .GET().build();
      statuses.add(fixture.client.send(request, HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    assertThat(statuses).containsExactly(200, 200, 200, 200, 200, 429);
    for (TestUpstream.Received received : upstream.received()) {
      assertThat(received.headers().getAll("X-Forwarded-For")).containsExactly("127.0.0.1");
      assertThat(received.headers().contains("X-Real-IP")).isFalse();
      assertThat(received.headers().contains("Forwarded")).isFalse();
    }
  }

  @Test
  void reusedUpstreamConnectionClosedBeforeAnswering_getIsSentOnceMoreAndCounted() throws Exception {
    assertThat(get("/warm").statusCode()).isEqualTo(200); // leaves one idle upstream connection

    HttpResponse<String> retried = get("/drop-once");

    assertThat(retried.statusCode()).isEqualTo(200);
    assertThat(upstream.uris()).containsExactly("/warm", "/drop-once", "/drop-once");
    assertThat(upstream.connections()).isEqualTo(2);
    HttpResponse<String> metrics = fixture.client.send(
        HttpRequest.newBuilder(java.net.URI.create(
            "http://127.0.0.1:" + fixture.gateway.adminAddress().getPort() + "/metrics")).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.body()).contains("sluice_upstream_retries_total 1.0");
  }

  @Test
  void upstreamPortClosed_gives502() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    fixture.close();
    fixture = new GatewayFixture(closedPort, "2s");

    HttpResponse<String> response = get("/anything");

    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
  }

  @Test
  void upstreamHangs_gives504AndItsConnectionIsNotReused() throws Exception {
    fixture.close();
    fixture = new GatewayFixture(upstream.port(), "300ms");

    HttpResponse<String> timedOut = get("/hang");
    HttpResponse<String> next = get("/after");

    assertThat(timedOut.statusCode()).isEqualTo(504);
    assertThat(timedOut.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(next.statusCode()).isEqualTo(200);
    assertThat(next.body()).isEqualTo("seen /after\n");
    assertThat(upstream.connections()).isEqualTo(2);
  }

  @Test
  void upstreamClosesMidResponse_closesClientConnection() throws Exception {
    try (RawConnection connection = new RawConnection(fixture.address())) {
      connection.send("GET /abort HTTP/1.1\r\nHost: a\r\n\r\n");

      // Headers promise 1000 bytes; the connection must end before that, not hang or be reused.
      java.io.IOException failure = null;
      RawConnection.Response response = null;
      try {
        response = connection.read();
      } catch (java.io.IOException e) {
        failure = e;
      }
      assertThat(failure == null ? response.body().length : -1).isLessThan(1000);
      assertThat(connection.closedByServer()).isTrue();
    }
  }

  @Test
  void close_releasesListenPort() throws Exception {
    InetSocketAddress address = fixture.address();
    fixture.close();
    fixture = null;

    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      try (ServerSocket socket = new ServerSocket()) {
        socket.setReuseAddress(true);
        socket.bind(address);
      }
    });
  }
}
