package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Requests whose framing is ambiguous or invalid are refused with 400/431 and a closed
 * connection, and the upstream never sees them (SPEC §4); rejected bodies are never parsed as
 * requests.
 */
@Timeout(30)
class StrictParsingTest {
  private TestUpstream upstream;
  private GatewayFixture fixture;

  @BeforeEach
  void start() throws Exception {
    upstream = TestUpstream.start();
    fixture = new GatewayFixture(upstream.port(), "2s");
  }

  @AfterEach
  void stop() {
    fixture.close();
    upstream.close();
  }

  private RawConnection.Response refused(String request) throws Exception {
    try (RawConnection connection = new RawConnection(fixture.address())) {
      connection.send(request);
      RawConnection.Response response = connection.read();
      assertThat(connection.closedByServer()).as("connection closed after %s", response.status()).isTrue();
      return response;
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        // Content-Length and Transfer-Encoding together (smuggling vector)
        "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        // duplicate Content-Length, equal and different
        "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello",
        "POST /x HTTP/1.0\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        // invalid Content-Length
        "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\nhello",
        "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\nhello",
        "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
        // invalid or unsupported Transfer-Encoding
        "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n",
        "POST /x HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        // missing or duplicate Host
        "GET /x HTTP/1.1\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        // targets that cannot be normalised
        "GET /../x HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a/%zz HTTP/1.1\r\nHost: a\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
      })
  void malformedRequest_gets400ClosedAndNeverReachesUpstream(String request) throws Exception {
    RawConnection.Response response = refused(request);

    assertThat(response.status()).isEqualTo(400);
    assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
    assertThat(upstream.received()).isEmpty();
  }

  @Test
  void oversizeHeaderSection_gets431AndClose() throws Exception {
    String big = "X-Big: " + "a".repeat(ProxyServer.MAX_HEADER_SIZE + 10) + "\r\n";

    RawConnection.Response response = refused("GET /x HTTP/1.1\r\nHost: a\r\n" + big + "\r\n");

    assertThat(response.status()).isEqualTo(431);
    assertThat(upstream.received()).isEmpty();
  }

  @Test
  void oversizeRequestLine_gets400AndClose() throws Exception {
    String target = "/" + "a".repeat(ProxyServer.MAX_INITIAL_LINE + 10);

    RawConnection.Response response = refused("GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n");

    assertThat(response.status()).isEqualTo(400);
    assertThat(upstream.received()).isEmpty();
  }

  @Test
  void invalidChunkSize_afterAllowedHead_isNotForwardedAsComplete() throws Exception {
    try (RawConnection connection = new RawConnection(fixture.address())) {
      connection.send("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n\r\n");
      RawConnection.Response response = connection.read();

      assertThat(response.status()).isEqualTo(400);
      assertThat(connection.closedByServer()).isTrue();
    }
    // The upstream may have seen the head and part of the body, never a complete request.
    assertThat(upstream.received()).isEmpty();
  }

  @Test
  void rejectedRequestBody_withContentLength_isDrainedNotParsedAsRequest() throws Exception {
    String smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
    try (RawConnection connection = new RawConnection(fixture.address())) {
      connection.send("POST /limited HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok");
      assertThat(connection.read().status()).isEqualTo(200);

      connection.send("POST /limited HTTP/1.1\r\nHost: a\r\nContent-Length: " + smuggled.length() + "\r\n\r\n" + smuggled);
      RawConnection.Response limited = connection.read();
      connection.send("GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
      RawConnection.Response after = connection.read();

      assertThat(limited.status()).isEqualTo(429);
      assertThat(after.text()).isEqualTo("seen /after\n");
    }
    assertThat(upstream.uris()).containsExactly("/limited", "/after");
  }

  @Test
  void rejectedRequestBody_chunked_isDrainedNotParsedAsRequest() throws Exception {
    String smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
    String chunk = Integer.toHexString(smuggled.length()) + "\r\n" + smuggled + "\r\n0\r\n\r\n";
    try (RawConnection connection = new RawConnection(fixture.address())) {
      connection.send("POST /limited HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
      assertThat(connection.read().status()).isEqualTo(200);

      connection.send("POST /limited HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk);
      RawConnection.Response limited = connection.read();
      connection.send("GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
      RawConnection.Response after = connection.read();

      assertThat(limited.status()).isEqualTo(429);
      assertThat(after.text()).isEqualTo("seen /after\n");
    }
    assertThat(upstream.uris()).containsExactly("/limited", "/after");
  }

  @Test
  void rejectedRequest_withBodyOverDrainLimit_isAnsweredAndClosed() throws Exception {
    try (RawConnection connection = new RawConnection(fixture.address())) {
      connection.send("POST /limited HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
      assertThat(connection.read().status()).isEqualTo(200);

      int length = ClientHandler.DRAIN_LIMIT * 4;
      connection.send("POST /limited HTTP/1.1\r\nHost: a\r\nContent-Length: " + length + "\r\n\r\n");
      RawConnection.Response limited = connection.read();

      assertThat(limited.status()).isEqualTo(429);
      assertThat(limited.header("Connection")).isEqualTo("close");
      assertThat(connection.closedByServer()).isTrue();
    }
    assertThat(upstream.uris()).containsExactly("/limited");
  }

  /**
   * The answer is not lost to a reset: the gateway answers before the body's end and, instead of
   * closing with the body unread (a reset, on which an uploading client such as this one fails
   * its write instead of reading the answer), shuts its output and reads on until the client stops.
   */
  @Test
  void rejectedRequest_whoseBodyIsStillArriving_isAnsweredNotReset() throws Exception {
    try (RawConnection connection = new RawConnection(fixture.address())) {
      connection.send("POST /limited HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
      assertThat(connection.read().status()).isEqualTo(200);
    }
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    byte[] body = new byte[8 << 20];
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> limited = client.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + fixture.address().getPort() + "/limited"))
          .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
          HttpResponse.BodyHandlers.ofString());

      assertThat(limited.statusCode()).isEqualTo(429);
    }
    assertThat(upstream.uris()).containsExactly("/limited");
  }
}
