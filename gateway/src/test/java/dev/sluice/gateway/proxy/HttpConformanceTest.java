package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.RawHttp;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * HTTP/1.1 rules the gateway enforces on the wire (issue 9, "HTTP conformance"): each refusal is
 * problem+json, the connection is closed, and the upstream never sees the request.
 */
@Timeout(30)
class HttpConformanceTest {
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

  private RawConnection.Response refused(byte[] request) throws Exception {
    try (RawConnection connection = new RawConnection(fixture.address())) {
      connection.send(request);
      RawConnection.Response response = connection.read();
      assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
      assertThat(response.header("Connection")).isEqualTo("close");
      assertThat(connection.closedByServer()).as("connection closed after %s", response.status()).isTrue();
      assertThat(upstream.received()).as("the upstream never sees a refused request").isEmpty();
      return response;
    }
  }

  private RawConnection.Response refused(String request) throws Exception {
    return refused(request.getBytes(StandardCharsets.ISO_8859_1));
  }

  private RawHttp.Response exchange(String request) {
    return RawHttp.send(fixture.address(), null, request.getBytes(StandardCharsets.ISO_8859_1), false,
        Duration.ofSeconds(10));
  }

  // ---- raw bytes in the target ----

  @ParameterizedTest
  @ValueSource(strings = {"/caf\u00c3\u00a9", "/api/search\u00ff", "/api/search?q=\u00e9", "/\u0080"})
  void rawByteAbove0x7F_inTarget_is400(String target) throws Exception {
    RawConnection.Response response = refused("GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n");

    assertThat(response.status()).isEqualTo(400);
    assertThat(response.text()).contains("contains the raw byte 0x");
  }

  @Test
  void rawByte_messageNamesTheByteAndItsEscape() throws Exception {
    RawConnection.Response response = refused("GET /caf\u00c3\u00a9 HTTP/1.1\r\nHost: a\r\n\r\n");

    assertThat(response.text()).contains("\"detail\":\"the request target contains the raw byte 0xC3 at offset 4;"
        + " expected printable ASCII, with other bytes percent-encoded (as %C3)\"");
  }

  @Test
  void percentEncodedUtf8_isForwardedUnchanged() {
    RawHttp.Response response = exchange("GET /caf%C3%A9 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");

    assertThat(response.status()).isEqualTo(200);
    assertThat(upstream.uris()).containsExactly("/caf%C3%A9");
  }

  @Test
  void percentEncodedInvalidUtf8_is400LikeTheRawByte() throws Exception {
    assertThat(refused("GET /%FF HTTP/1.1\r\nHost: a\r\n\r\n").status()).isEqualTo(400);
  }

  // ---- version ----

  @ParameterizedTest
  @ValueSource(strings = {"HTTP/2.0", "HTTP/1.2", "HTTP/3.0", "HTTP/0.9"})
  void unsupportedVersion_is505(String version) throws Exception {
    RawConnection.Response response = refused("GET /api/search " + version + "\r\nHost: a\r\n\r\n");

    assertThat(response.status()).isEqualTo(505);
    assertThat(response.text()).contains("\"detail\":\"the gateway speaks HTTP/1.1 and HTTP/1.0, not " + version + "\"");
  }

  // ---- Host ----

  @ParameterizedTest
  @ValueSource(strings = {"a b", "", "a/b", "a@b", "a:80:80", "a:port", "a:123456", "[::1", "[]", "a%zz", ":80", "é"})
  void invalidHost_is400(String host) throws Exception {
    RawConnection.Response response = refused("GET /api/search HTTP/1.1\r\nHost: " + host + "\r\n\r\n");

    assertThat(response.status()).isEqualTo(400);
    assertThat(response.text()).contains("is not a valid host[:port]");
  }

  @Test
  void twoHostHeaders_is400() throws Exception {
    RawConnection.Response response = refused("GET /api/search HTTP/1.1\r\nHost: a\r\nhOsT: a\r\n\r\n");

    assertThat(response.status()).isEqualTo(400);
    assertThat(response.text()).contains("an HTTP/1.1 request needs exactly one Host header, got 2");
  }

  @Test
  void http10WithTwoHostHeaders_is400() throws Exception {
    RawConnection.Response response = refused("GET /api/search HTTP/1.0\r\nHOST: a\r\nHost: b\r\n\r\n");

    assertThat(response.status()).isEqualTo(400);
    assertThat(response.text()).contains("the request has 2 Host headers; expected at most one");
  }

  @ParameterizedTest
  @ValueSource(strings = {"api.example.com", "api.example.com:8080", "127.0.0.1:80", "[::1]:8080", "[2001:db8::1]", "a-b_c~d"})
  void validHost_isForwardedAndCopiedToXForwardedHost(String host) {
    RawHttp.Response response = exchange("GET /api/search HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");

    assertThat(response.status()).isEqualTo(200);
    assertThat(upstream.received()).singleElement().satisfies(r -> {
      assertThat(r.headers().get("Host")).isEqualTo(host);
      assertThat(r.headers().get("X-Forwarded-Host")).isEqualTo(host);
    });
  }

  @Test
  void http11WithoutHost_is400() throws Exception {
    RawConnection.Response response = refused("GET /api/search HTTP/1.1\r\n\r\n");

    assertThat(response.status()).isEqualTo(400);
    assertThat(response.text()).contains("an HTTP/1.1 request needs exactly one Host header, got 0");
  }

  @Test
  void http10WithoutHost_reachesUpstreamWithTheUpstreamsAuthorityAsHost() {
    RawHttp.Response response = exchange("GET /api/search HTTP/1.0\r\n\r\n");

    assertThat(response.status()).isEqualTo(200);
    assertThat(upstream.received()).singleElement().satisfies(r -> {
      assertThat(r.headers().getAll("Host")).containsExactly("127.0.0.1:" + upstream.port());
      assertThat(r.headers().contains("X-Forwarded-Host")).as("the client named no host").isFalse();
    });
  }

  // ---- methods ----

  @ParameterizedTest
  @ValueSource(strings = {
      "TRACE / HTTP/1.1\r\nHost: a\r\nCookie: session=secret\r\n\r\n",
      "TRACE /api/search HTTP/1.0\r\n\r\n",
      "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
      "CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n"})
  void traceAndConnect_are405WithAllow(String request) throws Exception {
    RawConnection.Response response = refused(request);

    assertThat(response.status()).isEqualTo(405);
    assertThat(response.header("Allow")).isEqualTo("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    assertThat(response.text()).contains("the gateway does not forward").doesNotContain("secret");
  }

  // ---- Expect ----

  @ParameterizedTest
  @ValueSource(strings = {"foo", "100-continue, foo", "200-ok"})
  void unknownExpectation_is417(String expect) throws Exception {
    RawConnection.Response response =
        refused("POST /upload HTTP/1.1\r\nHost: a\r\nExpect: " + expect + "\r\nContent-Length: 2\r\n\r\nok");

    assertThat(response.status()).isEqualTo(417);
    assertThat(response.text()).contains("meets only the expectation \\\"100-continue\\\"");
  }

  @Test
  void expect100Continue_stillWorks() throws Exception {
    try (RawConnection connection = new RawConnection(fixture.address())) {
      connection.send("POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n");
      assertThat(connection.read().status()).isEqualTo(100);
      connection.send("ok");
      assertThat(connection.read().status()).isEqualTo(200);
    }
    assertThat(upstream.received()).singleElement().satisfies(r -> assertThat(r.bodyLength()).isEqualTo(2));
  }
}
