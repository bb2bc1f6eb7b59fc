package dev.sluice.gateway.decision;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 9, point 1, through the decision API: every spelling of a path that gunicorn decodes to a
 * plain route gets that route's policy, exactly as through the gateway. The table mirrors {@code
 * EncodedPathEndToEndTest} (integration tests), whose rows say what gunicorn + Flask do with each
 * spelling; here each row is the path a middleware reports (the raw request target), and {@code
 * limited} says whether the plain route's policy applies.
 *
 * <p>Per row, from a peer address of its own: the spelling, the plain path, the spelling again —
 * refused by the plain route's policy ({@code 2/minute}) exactly when it applies.
 */
class DecisionEncodedPathTest {
  private static final String POLICIES = """
      policies:
        - name: login
          match: { methods: [POST], paths: ["/auth/login"] }
          by: ip
          limits: ["2/minute"]
        - name: api
          match: { paths: ["/api/**"] }
          by: ip
          limits: ["2/minute"]
      """;

  record Row(String target, String route, boolean limited) {
    String method() {
      return route.equals("login") ? "POST" : "GET";
    }

    String plain() {
      return route.equals("login") ? "/auth/login" : "/api/search";
    }
  }

  static final List<Row> ROWS = List.of(
      new Row("/auth/login", "login", true),
      new Row("/auth%2Flogin", "login", true),
      new Row("/auth%2flogin", "login", true),
      new Row("/%61uth/login", "login", true),
      new Row("/auth/%6Cogin", "login", true),
      new Row("/%61%75%74%68%2f%6c%6f%67%69%6e", "login", true),
      new Row("/auth/login?next=%2F", "login", true),
      new Row("//auth//login", "login", true),
      new Row("/auth%2F%2Flogin", "login", true),
      new Row("/auth/./login", "login", true),
      new Row("/x/../auth/login", "login", true),
      new Row("/x/%2e%2e/auth/login", "login", true),
      new Row("/x%2F..%2Fauth%2Flogin", "login", true),
      new Row("/api%2F..%2Fauth/login", "login", true),
      new Row("/auth/login%2F", "login", true),
      new Row("/auth%252Flogin", "login", false),
      new Row("/auth%25252Flogin", "login", false),
      new Row("/auth\\\\login", "login", false),
      new Row("/auth%5Clogin", "login", false),
      new Row("/AUTH/login", "login", false),
      new Row("/api%2Fsearch?q=dam", "api", true),
      new Row("/api%2fsearch", "api", true),
      new Row("/%61pi%2F%73earch", "api", true),
      new Row("/api/search%2F", "api", true),
      new Row("/api%252Fsearch", "api", false));

  private static String decide(String method, String path, String peer) {
    return "{\"method\":\"" + method + "\",\"path\":\"" + path + "\",\"peer\":\"" + peer + "\"}";
  }

  @Test
  void decode_everySpelling_getsThePolicyOfThePlainRoute() throws Exception {
    assertThat(ROWS).hasSizeGreaterThanOrEqualTo(20);
    List<String> failures = new ArrayList<>();
    try (DecisionFixture f = DecisionFixture.start(POLICIES)) {
      for (int i = 0; i < ROWS.size(); i++) {
        Row row = ROWS.get(i);
        String peer = "127.0.1." + (i + 1);
        JsonNode first = f.decide(decide(row.method(), row.target(), peer));
        JsonNode plain = f.decide(decide(row.method(), row.plain(), peer));
        JsonNode again = f.decide(decide(row.method(), row.target(), peer));
        String name = "row " + i + " " + row.method() + " " + row.target();
        check(failures, name + ": first allowed", first.get("allowed").asBoolean(), true);
        check(failures, name + ": plain allowed", plain.get("allowed").asBoolean(), true);
        if (row.limited()) {
          check(failures, name + ": limited like the plain path", again.get("status").asInt(), 429);
          check(failures, name + ": by the plain route's policy", again.path("body").path("policy").asText(null),
              row.route());
        } else {
          check(failures, name + ": not the plain route's policy", again.get("allowed").asBoolean(), true);
        }
      }
    }
    assertThat(failures).isEmpty();
  }

  @Test
  void reject_aPathWithAnEncodedSlashIs400NamingPath_othersAreDecided() throws Exception {
    String yaml = DecisionFixture.yaml("  encoded_slashes: reject\n", "", POLICIES);
    try (DecisionFixture f = DecisionFixture.start(DecisionFixture.parse(yaml), dev.sluice.time.Clock.system())) {
      int i = 0;
      for (Row row : ROWS) {
        String peer = "127.0.2." + (++i);
        boolean slash = row.target().replaceFirst("\\?.*", "").toLowerCase().contains("%2f");
        HttpResponse<String> r = f.post("/v1/decide", decide(row.method(), row.target(), peer));
        if (slash) {
          assertThat(r.statusCode()).as(row.target()).isEqualTo(400);
          assertThat(r.headers().firstValue("Content-Type")).contains("application/problem+json");
          assertThat(DecisionFixture.JSON.readTree(r.body()).get("detail").asText())
              .startsWith("path: ").contains("(gateway.encoded_slashes: reject)");
        } else {
          assertThat(r.statusCode()).as(row.target()).isEqualTo(200);
        }
      }
    }
  }

  @Test
  void keep_matchesAnEncodedSlashAsALiteral() throws Exception {
    String policies = """
        policies:
          - name: file
            match: { paths: ["/files/a%2Fb"] }
            by: ip
            limits: ["1/minute"]
        """;
    String yaml = DecisionFixture.yaml("  encoded_slashes: keep\n", "", policies);
    try (DecisionFixture f = DecisionFixture.start(DecisionFixture.parse(yaml), dev.sluice.time.Clock.system())) {
      assertThat(f.decide(decide("GET", "/files/a%2Fb", "127.0.3.1")).get("allowed").asBoolean()).isTrue();
      JsonNode lower = f.decide(decide("GET", "/files/a%2fb", "127.0.3.1"));
      assertThat(lower.get("status").asInt()).as("the same literal segment").isEqualTo(429);
      assertThat(lower.get("body").get("policy").asText()).isEqualTo("file");
      assertThat(f.decide(decide("GET", "/files/a/b", "127.0.3.1")).get("allowed").asBoolean())
          .as("another path under keep").isTrue();
    }
  }

  private static void check(List<String> failures, String what, Object actual, Object expected) {
    if (!java.util.Objects.equals(actual, expected)) {
      failures.add(what + ": expected " + expected + ", got " + actual);
    }
  }
}
