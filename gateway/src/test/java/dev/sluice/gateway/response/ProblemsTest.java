package dev.sluice.gateway.response;

import static dev.sluice.gateway.response.Decisions.SECOND;
import static dev.sluice.gateway.response.Decisions.allowed;
import static dev.sluice.gateway.response.Decisions.decision;
import static dev.sluice.gateway.response.Decisions.denied;
import static dev.sluice.gateway.response.Decisions.login;
import static dev.sluice.gateway.response.Decisions.pd;
import static dev.sluice.gateway.response.Decisions.search;
import static dev.sluice.gateway.response.Decisions.status;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.config.HeaderStyle;
import dev.sluice.engine.Decision;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.identity.Identity;
import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.policy.Mode;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class ProblemsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static String body(FullHttpResponse response) {
    try {
      return response.content().toString(StandardCharsets.UTF_8);
    } finally {
      response.release();
    }
  }

  private static JsonNode json(String body) throws IOException {
    return JSON.readTree(body);
  }

  private static Decision loginHourLimited() {
    return decision(pd(login(), denied(1, 90 * SECOND + 1, status(3, 0), status(0, 90 * SECOND + 1))));
  }

  @Test
  void tooManyRequests_limited_hasStatusRetryAfterAndFields() {
    FullHttpResponse response = Problems.tooManyRequests(loginHourLimited(), HeaderStyle.IETF);
    try {
      assertThat(response.status().code()).isEqualTo(429);
      assertThat(response.headers().get(HttpHeaderNames.RETRY_AFTER)).isEqualTo("91");
      assertThat(response.headers().get("RateLimit")).isEqualTo("\"login/2\";r=0;t=91");
      assertThat(response.headers().get("RateLimit-Policy"))
          .isEqualTo("\"login/1\";q=5;w=60, \"login/2\";q=20;w=3600");
      assertThat(response.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("application/problem+json");
      assertThat(response.headers().get(HttpHeaderNames.CACHE_CONTROL)).isEqualTo("no-store");
      assertThat(response.headers().getInt(HttpHeaderNames.CONTENT_LENGTH))
          .isEqualTo(response.content().readableBytes());
    } finally {
      response.release();
    }
  }

  @Test
  void tooManyRequests_body_hasEveryProblemField() throws IOException {
    JsonNode body = json(body(Problems.tooManyRequests(loginHourLimited(), HeaderStyle.IETF)));

    assertThat(body.get("type").asText()).isEqualTo("https://iana.org/assignments/http-problem-types#quota-exceeded");
    assertThat(body.get("title").asText()).isEqualTo("Too Many Requests");
    assertThat(body.get("status").asInt()).isEqualTo(429);
    assertThat(body.get("detail").asText())
        .isEqualTo("Rate limit \"20/hour\" of policy \"login\" exceeded; retry in 91 seconds.");
    assertThat(body.get("violated-policies")).hasSize(1);
    assertThat(body.get("violated-policies").get(0).asText()).isEqualTo("login/2");
    assertThat(body.get("policy").asText()).isEqualTo("login");
    assertThat(body.get("limit").asText()).isEqualTo("20/hour");
    assertThat(body.get("retry_after").asLong()).isEqualTo(91);
  }

  @Test
  void tooManyRequests_oneSecond_saysSecondSingular() throws IOException {
    Decision d = decision(pd(search(Mode.ENFORCE), denied(0, SECOND / 3, status(0, SECOND / 3))));

    JsonNode body = json(body(Problems.tooManyRequests(d, HeaderStyle.IETF)));

    assertThat(body.get("detail").asText())
        .isEqualTo("Rate limit \"100/minute\" of policy \"search\" exceeded; retry in 1 second.");
    assertThat(body.get("retry_after").asLong()).isEqualTo(1);
  }

  @Test
  void tooManyRequests_twoEnforcedPoliciesDenied_listsBothAndNamesLongestWait() throws IOException {
    Decision d = decision(
        pd(login(), denied(0, 12 * SECOND, status(0, 12 * SECOND), status(5, SECOND))),
        pd(search(Mode.ENFORCE), denied(0, 30 * SECOND, status(0, 30 * SECOND))),
        pd(search(Mode.SHADOW), denied(0, 50 * SECOND, status(0, 50 * SECOND))));

    FullHttpResponse response = Problems.tooManyRequests(d, HeaderStyle.IETF);
    String retryAfter = response.headers().get(HttpHeaderNames.RETRY_AFTER);
    JsonNode body = json(body(response));

    assertThat(retryAfter).isEqualTo("30");
    assertThat(body.get("violated-policies").toString()).isEqualTo("[\"login/1\",\"search\"]");
    assertThat(body.get("policy").asText()).isEqualTo("search");
  }

  @Test
  void tooManyRequests_styleNone_stillSendsRetryAfterButNoFields() {
    FullHttpResponse response = Problems.tooManyRequests(loginHourLimited(), HeaderStyle.NONE);
    try {
      assertThat(response.headers().get(HttpHeaderNames.RETRY_AFTER)).isEqualTo("91");
      assertThat(response.headers().names()).noneMatch(n -> n.toLowerCase().contains("ratelimit"));
    } finally {
      response.release();
    }
  }

  @Test
  void tooManyRequests_legacy_resetEqualsRetryAfter() {
    FullHttpResponse response = Problems.tooManyRequests(loginHourLimited(), HeaderStyle.LEGACY);
    try {
      assertThat(response.headers().get("X-RateLimit-Limit")).isEqualTo("20");
      assertThat(response.headers().get("X-RateLimit-Remaining")).isEqualTo("0");
      assertThat(response.headers().get("X-RateLimit-Reset")).isEqualTo("91");
    } finally {
      response.release();
    }
  }

  @Test
  void tooManyRequests_secretIdentity_neverInBody() {
    Identity key = new Identity(new IdentitySpec(IdentityKind.API_KEY, null), "k1f3a9c0ffee");
    Decision d = decision(PolicyDecision.of(search(Mode.ENFORCE), key, denied(0, SECOND, status(0, SECOND))));

    FullHttpResponse response = Problems.tooManyRequests(d, HeaderStyle.BOTH);
    String headers = response.headers().toString();
    String body = body(response);

    assertThat(body).doesNotContain("k1f3a9c0ffee").doesNotContain("203.0.113.7");
    assertThat(headers).doesNotContain("k1f3a9c0ffee");
  }

  @Test
  void errorResponses_eachStatus_haveProblemTypeAndHeaders() throws IOException {
    record Case(Supplier<FullHttpResponse> response, int status, String title) {}
    List<Case> cases = List.of(
        new Case(() -> Problems.serviceUnavailable("The rate-limit store is unavailable."), 503, "Service Unavailable"),
        new Case(() -> Problems.badGateway("The upstream refused the connection."), 502, "Bad Gateway"),
        new Case(() -> Problems.gatewayTimeout("The upstream did not answer within 30s."), 504, "Gateway Timeout"),
        new Case(() -> Problems.badRequest("The request target has bad percent-encoding."), 400, "Bad Request"),
        new Case(Problems::headersTooLarge, 431, "Request Header Fields Too Large"));
    List<String> failures = new ArrayList<>();
    for (Case c : cases) {
      FullHttpResponse response = c.response().get();
      int length = response.content().readableBytes();
      String contentType = response.headers().get(HttpHeaderNames.CONTENT_TYPE);
      String cacheControl = response.headers().get(HttpHeaderNames.CACHE_CONTROL);
      Integer contentLength = response.headers().getInt(HttpHeaderNames.CONTENT_LENGTH);
      JsonNode body = json(body(response));
      assertThat(response.status().code()).isEqualTo(c.status());
      assertThat(contentType).isEqualTo("application/problem+json");
      assertThat(cacheControl).isEqualTo("no-store");
      assertThat(contentLength).isEqualTo(length);
      assertThat(body.get("type").asText()).isEqualTo("about:blank");
      assertThat(body.get("title").asText()).isEqualTo(c.title());
      assertThat(body.get("status").asInt()).isEqualTo(c.status());
      if (!body.hasNonNull("detail") || body.get("detail").asText().isBlank()) {
        failures.add(c.status() + " has no detail");
      }
    }
    assertThat(failures).isEmpty();
  }

  @Test
  void serviceUnavailable_hasRetryAfterOne() {
    FullHttpResponse response = Problems.serviceUnavailable("The rate-limit store is unavailable.");
    try {
      assertThat(response.headers().get(HttpHeaderNames.RETRY_AFTER)).isEqualTo("1");
    } finally {
      response.release();
    }
  }

  @Test
  void badRequest_detailWithQuotes_isValidJson() throws IOException {
    JsonNode body = json(body(Problems.badRequest("bad target \"/a/%zz\"\n")));

    assertThat(body.get("detail").asText()).isEqualTo("bad target \"/a/%zz\"\n");
  }

  @Test
  void tooManyRequests_allowedShapeIgnored_usesDenyingOnly() {
    // A decision where only an allowed policy exists has no denying policy: still a valid 429.
    Decision d = decision(pd(search(Mode.ENFORCE), allowed(status(3, SECOND))));

    FullHttpResponse response = Problems.tooManyRequests(d, HeaderStyle.IETF);
    try {
      assertThat(response.headers().get(HttpHeaderNames.RETRY_AFTER)).isEqualTo("1");
      assertThat(response.headers().contains("RateLimit")).isFalse();
    } finally {
      response.release();
    }
  }
}
