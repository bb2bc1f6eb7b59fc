package dev.sluice.gateway.abuse;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code body:<field>} identities over real sockets: the gateway buffers the body's first 16 KiB
 * before deciding, then forwards it intact.
 */
@Timeout(30)
class BodyIdentityTest {
  private HoldingUpstream upstream;
  private AbuseGateway gateway;

  @BeforeEach
  void start() throws Exception {
    upstream = new HoldingUpstream();
    gateway = AbuseGateway.builder(upstream.port())
        .policy(AbuseGateway.policy("login", "/login", "body:username", "2/minute")
            .methods(List.of("POST"))
            .build())
        .start();
  }

  @AfterEach
  void stop() {
    gateway.close();
    upstream.close();
  }

  private HttpResponse<String> post(String contentType, byte[] body, boolean chunked, boolean expectContinue)
      throws Exception {
    HttpRequest.BodyPublisher publisher = chunked
        ? HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))
        : HttpRequest.BodyPublishers.ofByteArray(body);
    return gateway.send(HttpRequest.newBuilder(gateway.uri("/login"))
        .header("Content-Type", contentType)
        .expectContinue(expectContinue)
        .POST(publisher)
        .build());
  }

  private HttpResponse<String> postJson(String json) throws Exception {
    return post("application/json", json.getBytes(StandardCharsets.UTF_8), false, false);
  }

  @Test
  void jsonField_limitsPerUsername_andBodyReachesUpstreamIntact() throws Exception {
    String alice = "{\"username\": \"alice\", \"password\": \"wrong\"}";

    List<Integer> aliceStatuses = List.of(
        postJson(alice).statusCode(), postJson(alice).statusCode(), postJson(alice).statusCode());
    HttpResponse<String> bob = postJson("{\"username\": \"bob\"}");

    assertThat(aliceStatuses).containsExactly(200, 200, 429);
    assertThat(bob.statusCode()).isEqualTo(200);
    assertThat(bob.headers().firstValue("X-Body-Sha256"))
        .hasValue(HoldingUpstream.sha256("{\"username\": \"bob\"}".getBytes(StandardCharsets.UTF_8)));
    assertThat(upstream.received()).hasSize(3);
    assertThat(upstream.received().get(0).bodySha256())
        .isEqualTo(HoldingUpstream.sha256(alice.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void formFieldChunkedAndExpectContinue_areBufferedAndIdentified() throws Exception {
    byte[] carol = "username=carol&password=x".getBytes(StandardCharsets.UTF_8);
    String form = "application/x-www-form-urlencoded";

    HttpResponse<String> first = post(form, carol, true, false);
    HttpResponse<String> second = post(form, carol, false, true);
    HttpResponse<String> third = post(form, carol, true, true);

    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().firstValue("X-Body-Sha256")).hasValue(HoldingUpstream.sha256(carol));
    assertThat(second.statusCode()).isEqualTo(200);
    assertThat(second.headers().firstValue("X-Body-Sha256")).hasValue(HoldingUpstream.sha256(carol));
    assertThat(third.statusCode()).isEqualTo(429);
  }

  private static byte[] bigJson(String username) {
    byte[] big = new byte[200 * 1024];
    byte[] start = ("{\"username\": \"" + username + "\", \"blob\": \"").getBytes(StandardCharsets.UTF_8);
    System.arraycopy(start, 0, big, 0, start.length);
    for (int i = start.length; i < big.length - 2; i++) {
      big[i] = (byte) ('a' + i % 26);
    }
    big[big.length - 2] = '"';
    big[big.length - 1] = '}';
    return big;
  }

  @Test
  void bodyLargerThanPrefix_isDecidedOnPrefixAndStreamedIntact() throws Exception {
    byte[] dave = bigJson("dave");
    byte[] frank = bigJson("frank");

    HttpResponse<String> plain = post("application/json", dave, false, false);
    HttpResponse<String> chunked = post("application/json", dave, true, false);
    HttpResponse<String> otherUser = post("application/json", frank, false, false);

    for (HttpResponse<String> response : List.of(plain, chunked)) {
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("X-Body-Length")).hasValue(Integer.toString(dave.length));
      assertThat(response.headers().firstValue("X-Body-Sha256")).hasValue(HoldingUpstream.sha256(dave));
    }
    // A truncated prefix gives no body identity, so the engine keys these requests by the client
    // ip (its fallback): a different username shares that bucket and is refused.
    assertThat(otherUser.statusCode()).isEqualTo(429);
    assertThat(postJson("{\"username\": \"frank\"}").statusCode()).isEqualTo(200);
  }

  @Test
  void bodyOfExactlyTheLimit_isIdentified() throws Exception {
    StringBuilder json = new StringBuilder("{\"username\": \"erin\", \"pad\": \"");
    while (json.length() < 16 * 1024 - 2) {
      json.append('x');
    }
    json.append("\"}");
    byte[] body = json.toString().getBytes(StandardCharsets.UTF_8);
    assertThat(body).hasSize(16 * 1024);

    List<Integer> statuses = List.of(
        post("application/json", body, false, false).statusCode(),
        post("application/json", body, false, false).statusCode(),
        post("application/json", body, false, false).statusCode());

    assertThat(statuses).containsExactly(200, 200, 429);
    assertThat(upstream.received()).allSatisfy(r -> assertThat(r.bodySha256()).isEqualTo(HoldingUpstream.sha256(body)));
  }
}
