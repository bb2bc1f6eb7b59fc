package dev.sluice.gateway.abuse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.store.Ban;
import dev.sluice.testkit.RawHttp;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The attacks on the admin API of issue 9 (point 4), sent as raw bytes over a socket the way a
 * browser would send them: a cross-site form POST, a foreign {@code Origin}, a DNS-rebinding
 * {@code Host}, a body with a key twice, two {@code Authorization} fields. Each is refused and
 * leaves the ban table as it was; the same request without the attack's mark is accepted, so the
 * refusal is the guard's doing. Most run on an admin API <em>without</em> a token — the case the
 * review found wide open.
 */
@Timeout(30)
class AdminRequestGuardTest {
  private static final String TOKEN = "s3cret-admin-token-0123456789";
  private static final String BAN = "{\"identity\": {\"kind\": \"ip\", \"value\": \"203.0.113.7\"},"
      + " \"duration\": \"10m\", \"policy\": \"login\"}";
  private static final String BAN_ID = Ban.idOf("login", "ip:203.0.113.7");

  private HoldingUpstream upstream;
  private AbuseGateway gateway;

  @BeforeEach
  void startUpstream() throws Exception {
    upstream = new HoldingUpstream();
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    upstream.close();
  }

  private AbuseGateway.Builder builder() {
    return AbuseGateway.builder(upstream.port())
        .policy(AbuseGateway.policy("login", "/login", "ip", "100/minute").build());
  }

  private InetSocketAddress admin() {
    return gateway.gateway.adminAddress();
  }

  private String self() {
    return "127.0.0.1:" + admin().getPort();
  }

  /** Sends {@code method target} with exactly the header lines given (no Host added) and the body. */
  private RawHttp.Response send(String method, String target, String body, String... headerLines) {
    StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\n");
    for (String line : headerLines) {
      head.append(line).append("\r\n");
    }
    byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    if (body != null) {
      head.append("Content-Length: ").append(bytes.length).append("\r\n");
    }
    head.append("Connection: close\r\n\r\n");
    byte[] head8 = head.toString().getBytes(StandardCharsets.ISO_8859_1);
    byte[] request = new byte[head8.length + bytes.length];
    System.arraycopy(head8, 0, request, 0, head8.length);
    System.arraycopy(bytes, 0, request, head8.length, bytes.length);
    return RawHttp.send(admin(), null, request, false, Duration.ofSeconds(5));
  }

  private RawHttp.Response post(String body, String... headerLines) {
    return send("POST", "/v1/bans", body, headerLines);
  }

  private List<Ban> bans() {
    return gateway.gateway.engine().bans().bans();
  }

  private static void assertProblem(RawHttp.Response response, int status, String detailPart) {
    assertThat(response.status()).as(response.status() + " " + response.bodyText()).isEqualTo(status);
    assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
    assertThat(response.bodyText()).contains(detailPart);
  }

  @Test
  void crossSiteFormPost_textPlainFromAForeignPage_isRefusedAndBansNothing() {
    gateway = builder().start();

    // What <form method=post enctype=text/plain action=http://127.0.0.1:9090/v1/bans> sends.
    RawHttp.Response browser = post(BAN, "Host: " + self(), "Origin: https://evil.example",
        "Content-Type: text/plain");
    // The same body without an Origin (a page that suppressed it, or a local tool): still not JSON.
    RawHttp.Response textPlain = post(BAN, "Host: " + self(), "Content-Type: text/plain");
    RawHttp.Response form = post("identity=x", "Host: " + self(), "Content-Type: application/x-www-form-urlencoded");
    RawHttp.Response untyped = post(BAN, "Host: " + self());

    assertProblem(browser, 403, "another origin");
    assertProblem(textPlain, 415, "Content-Type: application/json, got \\\"text/plain\\\"");
    assertProblem(form, 415, "application/x-www-form-urlencoded");
    assertProblem(untyped, 415, "a body without one");
    assertThat(bans()).isEmpty();
    assertThat(post(BAN, "Host: " + self(), "Content-Type: application/json; charset=utf-8").status())
        .as("the same ban as JSON").isEqualTo(201);
  }

  @Test
  void foreignOrigin_isRefusedForPostAndDelete_ownOriginIsAccepted() {
    gateway = builder().start();
    String json = "Content-Type: application/json";

    assertProblem(post(BAN, "Host: " + self(), "Origin: http://evil.example", json), 403, "evil.example");
    assertProblem(post(BAN, "Host: " + self(), "Origin: null", json), 403, "another origin");
    assertProblem(post(BAN, "Host: " + self(), "Origin: http://127.0.0.1:1", json), 403, "another origin");
    assertProblem(post(BAN, "Host: " + self(), "Origin: https://" + self(), json), 403, "another origin");
    assertThat(bans()).isEmpty();

    assertThat(post(BAN, "Host: " + self(), "Origin: http://" + self(), json).status()).isEqualTo(201);
    assertProblem(send("DELETE", "/v1/bans/" + BAN_ID, null, "Host: " + self(), "Origin: https://evil.example"),
        403, "another origin");
    assertThat(bans()).as("a foreign page cannot lift a ban either").hasSize(1);
    assertThat(send("DELETE", "/v1/bans/" + BAN_ID, null, "Host: " + self()).status()).isEqualTo(204);
  }

  @Test
  void dnsRebindingHost_isRefused_listenerAddressLocalhostAndConfiguredNamesAreAccepted() {
    gateway = builder().adminHosts("sluice-admin.internal").start();
    String json = "Content-Type: application/json";
    int port = admin().getPort();

    // A page on evil.example whose name now resolves to 127.0.0.1: the browser sends its own name.
    assertProblem(post(BAN, "Host: evil.example:" + port, "Origin: http://evil.example:" + port, json), 403,
        "evil.example");
    assertProblem(post(BAN, "Host: evil.example:" + port, json), 403, "gateway.admin_hosts");
    assertProblem(send("GET", "/v1/bans", null, "Host: evil.example:" + port), 403, "Host");
    assertProblem(post(BAN, "Host: 127.0.0.1:" + (port == 1 ? 2 : 1), json), 403, "Host");
    assertProblem(send("GET", "/v1/bans", null), 403, "Host missing");
    assertThat(bans()).isEmpty();

    assertThat(send("GET", "/v1/bans", null, "Host: " + self()).status()).isEqualTo(200);
    assertThat(send("GET", "/v1/bans", null, "Host: LOCALHOST:" + port).status()).isEqualTo(200);
    assertThat(send("GET", "/v1/bans", null, "Host: sluice-admin.internal").status()).isEqualTo(200);
    assertThat(post(BAN, "Host: Sluice-Admin.internal:8443", "Origin: https://sluice-admin.internal", json)
        .status()).as("a configured name behind a TLS proxy").isEqualTo(201);
    assertThat(send("GET", "/healthz", null, "Host: evil.example").status())
        .as("health checks stay open to any Host").isEqualTo(200);
  }

  @Test
  void duplicateJsonKeys_areRefusedNamingTheKey() {
    gateway = builder().start();
    String twice = "{\"identity\": {\"kind\": \"ip\", \"value\": \"203.0.113.7\"}, \"duration\": \"1s\","
        + " \"policy\": \"login\", \"duration\": \"365d\"}";
    String nestedTwice = "{\"identity\": {\"kind\": \"ip\", \"value\": \"203.0.113.7\", \"value\": \"10.0.0.1\"},"
        + " \"duration\": \"10m\"}";

    assertProblem(post(twice, "Host: " + self(), "Content-Type: application/json"), 400,
        "the key \\\"duration\\\" more than once");
    assertProblem(post(nestedTwice, "Host: " + self(), "Content-Type: application/json"), 400,
        "the key \\\"value\\\" more than once");
    assertProblem(post(BAN + " {}", "Host: " + self(), "Content-Type: application/json"), 400, "not valid JSON");
    assertThat(bans()).isEmpty();
  }

  @Test
  void duplicateAuthorization_isRefusedEvenWhenOneIsTheToken() {
    gateway = builder().token(TOKEN).start();
    String json = "Content-Type: application/json";
    String good = "Authorization: Bearer " + TOKEN;

    assertProblem(post(BAN, "Host: " + self(), good, "Authorization: Bearer wrong", json), 400,
        "more than one authorization");
    assertProblem(post(BAN, "Host: " + self(), "Authorization: Bearer wrong", good, json), 400,
        "more than one authorization");
    assertProblem(post(BAN, "Host: " + self(), good, good, json), 400, "more than one authorization");
    assertProblem(send("GET", "/metrics", null, "Host: " + self(), good, good), 400, "more than one authorization");
    assertProblem(post(BAN, "Host: " + self(), "Host: evil.example", good, json), 400, "more than one host");
    assertThat(bans()).isEmpty();

    assertThat(post(BAN, "Host: " + self(), good, json).status()).isEqualTo(201);
  }

  @Test
  void withToken_foreignOriginAndRebindingAreStillRefused_beforeTheTokenIsJudged() {
    gateway = builder().token(TOKEN).start();
    List<RawHttp.Response> refused = new ArrayList<>();
    refused.add(post(BAN, "Host: evil.example:" + admin().getPort(), "Content-Type: application/json"));
    refused.add(post(BAN, "Host: " + self(), "Origin: https://evil.example", "Content-Type: application/json"));

    for (RawHttp.Response r : refused) {
      assertProblem(r, 403, "");
    }
    assertProblem(post(BAN, "Host: " + self(), "Content-Type: application/json"), 401, "Bearer");
  }
}
