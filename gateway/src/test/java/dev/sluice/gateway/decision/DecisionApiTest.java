package dev.sluice.gateway.decision;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decision API over real sockets (SPEC §8): every request field, every answer field, every
 * kind of refusal, and every error case, against one {@code sluice serve} server with only
 * {@code decision.listen} set. Each test uses client addresses and identity values of its own, so
 * the tests share the server without sharing buckets.
 */
class DecisionApiTest {
  static final String SECRET = "0123456789abcdef0123456789abcdef";

  @TempDir static Path dir;
  static DecisionFixture f;
  static Path audit;
  static Path access;

  @BeforeAll
  static void start() {
    audit = dir.resolve("audit.jsonl");
    access = dir.resolve("access.jsonl");
    f = DecisionFixture.start(DecisionFixture.parse(DecisionFixture.yaml("", "", """
        audit_log: %s
        access_log: %s
        clients:
          trusted_proxies: [10.0.0.0/8]
          api_key: { header: X-API-Key }
          session: { cookie: session }
          user: { jwt: { header: Authorization, claim: sub, hs256_secret_env: JWT_SECRET } }
        exempt:
          ips: [192.0.2.0/24]
        block:
          ips: [198.51.100.0/24]
          api_keys: [leaked-key]
        policies:
          - name: login
            match: { methods: [POST], paths: ["/auth/login"] }
            by: ip
            limits: ["2/minute"]
          - name: by-user
            match: { paths: ["/u/**"] }
            by: user
            limits: ["1/minute"]
          - name: by-key
            match: { paths: ["/k/**"] }
            by: api_key
            limits: ["1/minute"]
          - name: by-session
            match: { paths: ["/s/**"] }
            by: session
            limits: ["1/minute"]
          - name: by-tenant
            match: { paths: ["/t/**"] }
            by: "header:X-Tenant"
            limits: ["1/minute"]
          - name: by-username
            match: { methods: [POST], paths: ["/b/**"] }
            by: "body:username"
            limits: ["1/minute"]
          - name: banning
            match: { paths: ["/ban/**"] }
            by: ip
            limits: ["1/minute"]
            penalty: { ban: 10m }
          - name: trial
            match: { paths: ["/shadow/**"] }
            by: ip
            limits: ["1/minute"]
            mode: shadow
          - name: both
            match: { paths: ["/two/**"] }
            by: ip
            limits: ["5/minute", "100/hour"]
        """.formatted(audit, access))), dev.sluice.time.Clock.system());
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  static String decide(String method, String path, String peer, String extra) {
    return "{\"method\":\"" + method + "\",\"path\":\"" + path + "\",\"peer\":\"" + peer + "\"" + extra + "}";
  }

  @Test
  void allowed_answersTheGatewaysFieldsAndNoBodyOrTicket() throws Exception {
    JsonNode a = f.decide(decide("POST", "/auth/login", "203.0.113.1", ""));
    assertThat(a.get("allowed").asBoolean()).isTrue();
    assertThat(a.get("status").asInt()).isEqualTo(200);
    assertThat(a.get("headers").get("RateLimit-Policy").asText()).isEqualTo("\"login\";q=2;w=60");
    assertThat(a.get("headers").get("RateLimit").asText()).isEqualTo("\"login\";r=1;t=30");
    assertThat(a.get("headers").size()).isEqualTo(2);
    assertThat(a.get("body").isNull()).isTrue();
    assertThat(a.get("ticket").isNull()).isTrue();
  }

  @Test
  void overTheLimit_isA429WithRetryAfterFieldsAndProblemBody() throws Exception {
    String req = decide("POST", "/auth/login", "203.0.113.2", "");
    f.decide(req);
    f.decide(req);
    JsonNode r = f.decide(req);
    assertThat(r.get("allowed").asBoolean()).isFalse();
    assertThat(r.get("status").asInt()).isEqualTo(429);
    JsonNode h = r.get("headers");
    assertThat(h.get("Retry-After").asText()).isEqualTo("30");
    assertThat(h.get("RateLimit").asText()).isEqualTo("\"login\";r=0;t=30");
    assertThat(h.get("RateLimit-Policy").asText()).isEqualTo("\"login\";q=2;w=60");
    assertThat(h.get("Content-Type").asText()).isEqualTo("application/problem+json");
    assertThat(h.has("Content-Length")).isFalse();
    JsonNode body = r.get("body");
    assertThat(body.get("type").asText()).isEqualTo("https://iana.org/assignments/http-problem-types#quota-exceeded");
    assertThat(body.get("status").asInt()).isEqualTo(429);
    assertThat(body.get("policy").asText()).isEqualTo("login");
    assertThat(body.get("limit").asText()).isEqualTo("2/minute");
    assertThat(body.get("retry_after").asInt()).isEqualTo(30);
    assertThat(body.get("violated-policies").get(0).asText()).isEqualTo("login");
    assertThat(r.get("ticket").isNull()).isTrue();
  }

  @Test
  void severalLimits_nameTheirItems() throws Exception {
    JsonNode a = f.decide(decide("GET", "/two/x", "203.0.113.3", ""));
    assertThat(a.get("headers").get("RateLimit-Policy").asText())
        .isEqualTo("\"both/1\";q=5;w=60, \"both/2\";q=100;w=3600");
  }

  @Test
  void peerAndForwardedHeaders_followTheTrustedProxyWalk() throws Exception {
    // Through a trusted proxy (10.0.0.0/8) the client is the X-Forwarded-For address...
    String viaProxy = decide("POST", "/auth/login", "10.0.0.5", ",\"headers\":{\"X-Forwarded-For\":\"203.0.113.4\"}");
    f.decide(viaProxy);
    f.decide(viaProxy);
    assertThat(f.decide(decide("POST", "/auth/login", "203.0.113.4", "")).get("status").asInt())
        .as("the same client seen directly shares the bucket").isEqualTo(429);
    // ...while an untrusted peer's X-Forwarded-For is ignored: the peer is the client.
    String spoofed = decide("POST", "/auth/login", "203.0.113.5", ",\"headers\":{\"X-Forwarded-For\":\"203.0.113.99\"}");
    f.decide(spoofed);
    f.decide(spoofed);
    assertThat(f.decide(spoofed).get("status").asInt()).isEqualTo(429);
    assertThat(f.decide(decide("POST", "/auth/login", "203.0.113.99", "")).get("allowed").asBoolean())
        .as("the spoofed address got no requests").isTrue();
    // A header given as a list of lines is read like repeated header lines.
    String lines = decide("POST", "/auth/login", "10.0.0.6",
        ",\"headers\":{\"X-Forwarded-For\":[\"203.0.113.6\",\"10.0.0.7\"]}");
    f.decide(lines);
    f.decide(lines);
    assertThat(f.decide(decide("POST", "/auth/login", "203.0.113.6", "")).get("status").asInt()).isEqualTo(429);
  }

  @Test
  void withoutPeer_theDecisionClientsAddressIsThePeer() throws Exception {
    String req = "{\"method\":\"GET\",\"path\":\"/ban-free/x\"}";
    JsonNode a = f.decide("{\"method\":\"POST\",\"path\":\"/auth/login\",\"peer\":null}");
    f.decide("{\"method\":\"POST\",\"path\":\"/auth/login\"}");
    assertThat(f.decide(decide("POST", "/auth/login", "127.0.0.1", "")).get("status").asInt()).isEqualTo(429);
    assertThat(a.get("allowed").asBoolean()).isTrue();
    assertThat(f.decide(req).get("allowed").asBoolean()).as("no policy matches: allowed, no fields").isTrue();
  }

  @Test
  void assertedUser_sharesTheBucketOfTheSameUserFromAVerifiedJwt() throws Exception {
    assertThat(f.decide(decide("GET", "/u/a", "203.0.113.10", ",\"identities\":{\"user\":\"42\"}"))
        .get("allowed").asBoolean()).isTrue();
    JsonNode jwt = f.decide(decide("GET", "/u/a", "203.0.113.11",
        ",\"headers\":{\"Authorization\":\"Bearer " + jwt("42") + "\"}"));
    assertThat(jwt.get("status").asInt()).isEqualTo(429);
    assertThat(jwt.get("body").get("policy").asText()).isEqualTo("by-user");
    assertThat(f.decide(decide("GET", "/u/a", "203.0.113.10", ",\"identities\":{\"user\":43}"))
        .get("allowed").asBoolean()).as("a number is a user id too; another user").isTrue();
    // The asserted identity takes precedence over the token the headers carry.
    JsonNode both = f.decide(decide("GET", "/u/a", "203.0.113.12",
        ",\"headers\":{\"Authorization\":\"Bearer " + jwt("44") + "\"},\"identities\":{\"user\":\"42\"}"));
    assertThat(both.get("status").asInt()).isEqualTo(429);
  }

  @Test
  void assertedApiKeySessionAndHeader_shareBucketsWithTheHeadersTheGatewayReads() throws Exception {
    f.decide(decide("GET", "/k/a", "203.0.113.20", ",\"identities\":{\"api_key\":\"key-20\"}"));
    assertThat(f.decide(decide("GET", "/k/a", "203.0.113.21", ",\"headers\":{\"X-API-Key\":\"key-20\"}"))
        .get("status").asInt()).isEqualTo(429);
    f.decide(decide("GET", "/s/a", "203.0.113.22", ",\"identities\":{\"session\":\"sess-22\"}"));
    assertThat(f.decide(decide("GET", "/s/a", "203.0.113.23", ",\"headers\":{\"Cookie\":\"a=b; session=sess-22\"}"))
        .get("status").asInt()).isEqualTo(429);
    f.decide(decide("GET", "/t/a", "203.0.113.24", ",\"identities\":{\"header:X-Tenant\":\"acme\"}"));
    assertThat(f.decide(decide("GET", "/t/a", "203.0.113.25", ",\"headers\":{\"x-tenant\":\"acme\"}"))
        .get("status").asInt()).isEqualTo(429);
    assertThat(f.decide(decide("GET", "/t/a", "203.0.113.25", ",\"identities\":{\"header:x-tenant\":\"other\"}"))
        .get("allowed").asBoolean()).isTrue();
  }

  @Test
  void bodyFields_feedBodyIdentitiesNormalisedLikeTheGateway() throws Exception {
    f.decide(decide("POST", "/b/login", "203.0.113.30", ",\"body\":{\"username\":\"Bob\",\"password\":\"x\"}"));
    JsonNode again = f.decide(decide("POST", "/b/login", "203.0.113.31", ",\"body\":{\"username\":\" bob \"}"));
    assertThat(again.get("status").asInt()).isEqualTo(429);
    assertThat(again.get("body").get("policy").asText()).isEqualTo("by-username");
    assertThat(f.decide(decide("POST", "/b/login", "203.0.113.31", ",\"body\":{\"username\":\"carol\"}"))
        .get("allowed").asBoolean()).isTrue();
  }

  @Test
  void exemptBlockedBannedAndShadow_areAnsweredAsTheGatewayWould() throws Exception {
    JsonNode exempt = f.decide(decide("POST", "/auth/login", "192.0.2.7", ""));
    assertThat(exempt.get("allowed").asBoolean()).isTrue();
    assertThat(exempt.get("headers").size()).isZero();

    JsonNode blocked = f.decide(decide("GET", "/anything", "198.51.100.7", ""));
    assertThat(blocked.get("allowed").asBoolean()).isFalse();
    assertThat(blocked.get("status").asInt()).isEqualTo(403);
    assertThat(blocked.get("body").get("status").asInt()).isEqualTo(403);
    JsonNode leaked = f.decide(decide("GET", "/anything", "203.0.113.40", ",\"identities\":{\"api_key\":\"leaked-key\"}"));
    assertThat(leaked.get("status").asInt()).as("an asserted key on the block list").isEqualTo(403);

    f.decide(decide("GET", "/ban/x", "203.0.113.41", ""));
    JsonNode banned = f.decide(decide("GET", "/ban/x", "203.0.113.41", ""));
    assertThat(banned.get("status").asInt()).isEqualTo(429);
    assertThat(banned.get("body").get("type").asText())
        .isEqualTo("https://iana.org/assignments/http-problem-types#abnormal-usage-detected");
    assertThat(banned.get("headers").get("Retry-After").asInt()).isBetween(590, 600);

    f.decide(decide("GET", "/shadow/x", "203.0.113.42", ""));
    JsonNode shadow = f.decide(decide("GET", "/shadow/x", "203.0.113.42", ""));
    assertThat(shadow.get("allowed").asBoolean()).as("shadow never refuses").isTrue();
    assertThat(shadow.get("headers").size()).as("shadow policies add no fields").isZero();
  }

  @Test
  void metricsAndAuditLog_countDecisionsViaTheDecisionApi() throws Exception {
    String req = decide("POST", "/auth/login", "203.0.113.50", "");
    f.decide(req);
    f.decide(req);
    f.decide(req);
    String metrics = f.metrics();
    assertThat(metrics).contains("sluice_requests_total{outcome=\"limited\",policy=\"login\",via=\"decision\"}");
    assertThat(metrics).contains("sluice_requests_total{outcome=\"exempt\",policy=\"\",via=\"decision\"}")
        .doesNotContain("via=\"gateway\"");
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(Files.exists(audit) ? Files.readAllLines(audit) : List.<String>of())
            .anyMatch(line -> line.contains("\"203.0.113.50\"") && line.contains("\"login\"")
                && line.contains("\"/auth/login\"")));
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(Files.exists(access) ? Files.readAllLines(access) : List.<String>of())
            .anyMatch(line -> line.contains("\"203.0.113.50\"") && line.contains("\"via\":\"decision\"")
                && line.contains("429")));
  }

  @Test
  void badInput_is400ProblemJsonNamingTheField_andTheListenerKeepsServing() throws Exception {
    String[][] cases = {
        {"not json", "request: malformed JSON"},
        {"[]", "request: expected a JSON object"},
        {"{}", "method: is required"},
        {"{\"method\":\"GET\"}", "path: is required"},
        {"{\"path\":\"/\"}", "method: is required"},
        {"{\"method\":1,\"path\":\"/\"}", "method: expected a string, got the number 1"},
        {"{\"method\":\"G E T\",\"path\":\"/\"}", "method: \"G E T\" is not an HTTP method"},
        {"{\"method\":\"GET\",\"path\":5}", "path: expected a string"},
        {"{\"method\":\"GET\",\"path\":\"nope\"}", "path: \"nope\" does not start with /"},
        {"{\"method\":\"GET\",\"path\":\"/a%zz\"}", "path: "},
        {"{\"method\":\"GET\",\"path\":\"/../x\"}", "path: "},
        {"{\"method\":\"GET\",\"path\":\"/\",\"peer\":\"not-an-ip\"}", "peer: \"not-an-ip\" is not an IP address"},
        {"{\"method\":\"GET\",\"path\":\"/\",\"peer\":\"1.2.3\"}", "peer: "},
        {"{\"method\":\"GET\",\"path\":\"/\",\"peer\":7}", "peer: expected a string"},
        {"{\"method\":\"GET\",\"path\":\"/\",\"headers\":[]}", "headers: expected an object"},
        {"{\"method\":\"GET\",\"path\":\"/\",\"headers\":{\"X-A\":5}}", "headers.X-A: expected a string"},
        {"{\"method\":\"GET\",\"path\":\"/\",\"headers\":{\"Bad Name\":\"x\"}}", "headers.Bad Name: not a valid header name"},
        {"{\"method\":\"GET\",\"path\":\"/\",\"identities\":\"42\"}", "identities: expected an object"},
        {"{\"method\":\"GET\",\"path\":\"/\",\"identities\":{\"ip\":\"1.2.3.4\"}}", "identities.ip: unknown identity kind"},
        {"{\"method\":\"GET\",\"path\":\"/\",\"identities\":{\"email\":\"a@b\"}}", "identities.email: unknown identity kind"},
        {"{\"method\":\"GET\",\"path\":\"/\",\"identities\":{\"user\":true}}", "identities.user: expected a string or an integer"},
        {"{\"method\":\"GET\",\"path\":\"/\",\"identities\":{\"header:\":\"x\"}}", "identities.header:: "},
        {"{\"method\":\"GET\",\"path\":\"/\",\"body\":\"username=bob\"}", "body: expected an object"},
        {"{\"method\":\"GET\",\"path\":\"/\",\"extra\":1}", "extra: unknown field"},
        {"{\"method\":\"GET\",\"method\":\"POST\",\"path\":\"/\"}", "method: malformed JSON: Duplicate field 'method'"},
        {"{\"method\":\"GET\",\"path\":\"/\"} {}", "request: "},
    };
    for (String[] c : cases) {
      HttpResponse<String> r = f.post("/v1/decide", c[0]);
      assertThat(r.statusCode()).as(c[0]).isEqualTo(400);
      assertThat(r.headers().firstValue("Content-Type")).as(c[0]).contains("application/problem+json");
      JsonNode problem = DecisionFixture.JSON.readTree(r.body());
      assertThat(problem.get("status").asInt()).isEqualTo(400);
      assertThat(problem.get("detail").asText()).as(c[0]).startsWith(c[1]);
      assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
    }
    assertThat(f.decide(decide("GET", "/", "203.0.113.60", "")).get("allowed").asBoolean()).isTrue();
  }

  @Test
  void settleErrors_are400or404() throws Exception {
    String[][] cases = {
        {"{}", "ticket: is required"},
        {"{\"ticket\":\"abc\"}", "status: is required"},
        {"{\"ticket\":\"abc\",\"status\":99}", "status: expected the application's response status"},
        {"{\"ticket\":\"abc\",\"status\":\"200\"}", "status: expected the application's response status"},
        {"{\"ticket\":7,\"status\":200}", "ticket: expected a string"},
        {"{\"ticket\":\"abc\",\"status\":200,\"x\":1}", "x: unknown field"},
    };
    for (String[] c : cases) {
      HttpResponse<String> r = f.post("/v1/settle", c[0]);
      assertThat(r.statusCode()).as(c[0]).isEqualTo(400);
      assertThat(DecisionFixture.JSON.readTree(r.body()).get("detail").asText()).as(c[0]).startsWith(c[1]);
    }
    HttpResponse<String> unknown = f.post("/v1/settle", "{\"ticket\":\"no-such-ticket\",\"status\":200}");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.headers().firstValue("Content-Type")).contains("application/problem+json");
  }

  /**
   * A 413 sent while the body still arrives reaches the client: closing with the body unread
   * would reset the connection, and an uploading client (this one) then fails its write instead
   * of reading the answer (see LingeringClose).
   */
  @Test
  void oversizedBodyStillArriving_gets413NotAReset() throws Exception {
    String huge = "{\"method\":\"GET\",\"path\":\"/\",\"body\":{\"x\":\"" + "a".repeat(8 << 20) + "\"}}";
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> big = f.post("/v1/decide", huge);

      assertThat(big.statusCode()).isEqualTo(413);
      assertThat(big.headers().firstValue("Content-Type")).contains("application/problem+json");
    }
  }

  @Test
  void wrongEndpointMethodMediaTypeAndSize_areProblems() throws Exception {
    assertThat(f.post("/v1/nothing", "{}").statusCode()).isEqualTo(404);
    HttpResponse<String> get = f.client.send(HttpRequest.newBuilder(f.uri("/v1/decide")).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(get.statusCode()).isEqualTo(405);
    assertThat(get.headers().firstValue("Allow")).contains("POST");
    HttpResponse<String> text = f.client.send(HttpRequest.newBuilder(f.uri("/v1/decide"))
        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(text.statusCode()).isEqualTo(415);
    String huge = "{\"method\":\"GET\",\"path\":\"/\",\"body\":{\"x\":\"" + "a".repeat(70_000) + "\"}}";
    HttpResponse<String> big = f.post("/v1/decide", huge);
    assertThat(big.statusCode()).isEqualTo(413);
    assertThat(big.headers().firstValue("Content-Type")).contains("application/problem+json");
    assertThat(f.decide(decide("GET", "/", "203.0.113.61", "")).get("allowed").asBoolean()).isTrue();
  }

  @Test
  void keepAlive_manyDecisionsOnOneConnection_inOrder() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", f.address().getPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      StringBuilder pipelined = new StringBuilder();
      for (int i = 0; i < 3; i++) {
        String body = decide("POST", "/auth/login", "203.0.113.70", "");
        pipelined.append("POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ")
            .append(body.getBytes(StandardCharsets.UTF_8).length).append("\r\n\r\n").append(body);
      }
      out.write(pipelined.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      String[] statuses = new String[3];
      for (int i = 0; i < 3; i++) {
        String head = readHead(in);
        assertThat(head).startsWith("HTTP/1.1 200").doesNotContainIgnoringCase("connection: close");
        int length = Integer.parseInt(head.replaceAll("(?s).*content-length: (\\d+).*", "$1"));
        statuses[i] = DecisionFixture.JSON.readTree(in.readNBytes(length)).get("status").asText();
      }
      assertThat(statuses).containsExactly("200", "200", "429");
    }
  }

  private static String readHead(InputStream in) throws Exception {
    StringBuilder sb = new StringBuilder();
    while (!sb.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new AssertionError("connection closed after " + sb);
      }
      sb.append((char) b);
    }
    return sb.toString().toLowerCase(java.util.Locale.ROOT).replace("http/1.1", "HTTP/1.1");
  }

  static String jwt(String sub) throws Exception {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String header = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
    String payload = b64.encodeToString(("{\"sub\":\"" + sub + "\",\"exp\":4102444800}").getBytes(StandardCharsets.UTF_8));
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    String signature = b64.encodeToString(mac.doFinal((header + "." + payload).getBytes(StandardCharsets.UTF_8)));
    return header + "." + payload + "." + signature;
  }
}
