package dev.sluice.gateway.response;

import static dev.sluice.gateway.response.Decisions.IP;
import static dev.sluice.gateway.response.Decisions.SECOND;
import static dev.sluice.gateway.response.Decisions.allowed;
import static dev.sluice.gateway.response.Decisions.bursty;
import static dev.sluice.gateway.response.Decisions.decision;
import static dev.sluice.gateway.response.Decisions.denied;
import static dev.sluice.gateway.response.Decisions.login;
import static dev.sluice.gateway.response.Decisions.pd;
import static dev.sluice.gateway.response.Decisions.search;
import static dev.sluice.gateway.response.Decisions.status;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.config.HeaderStyle;
import dev.sluice.engine.Decision;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.limit.Limit;
import dev.sluice.policy.Mode;
import dev.sluice.policy.OnError;
import dev.sluice.policy.Policy;
import dev.sluice.store.LimitStatus;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The precomputed 429 must be byte for byte what the Jackson-built response it replaced gave: the
 * reference below is that implementation, kept here as the oracle.
 */
class LimitTemplatesTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** Limit text with every kind of character JSON must escape or encode (the policy file allows any). */
  private static final String ODD_TEXT = "3/second \"quoted\" back\\slash caf\u00e9 \u2603 \ud83d\ude00 line\nfeed\ttab \u0001 \u2028 </>";

  private static Policy odd() {
    return Policy.builder("odd.name-1_X").paths(List.of("/odd"))
        .limits(List.of(new Limit(3, SECOND, 3, ODD_TEXT), new Limit(50, Duration.ofDays(1).toNanos(), 60, "50/day burst 60")))
        .build();
  }

  static Map<String, Decision> decisions() {
    return Map.ofEntries(
        Map.entry("one limit, 1 second", decision(pd(search(Mode.ENFORCE), denied(0, SECOND / 3, status(0, SECOND / 3))))),
        Map.entry("one limit, exactly 2 seconds", decision(pd(search(Mode.ENFORCE), denied(0, 2 * SECOND, status(0, 2 * SECOND))))),
        Map.entry("second of two limits, 91 seconds",
            decision(pd(login(), denied(1, 90 * SECOND + 1, status(3, 0), status(0, 90 * SECOND + 1))))),
        Map.entry("burst differs, tokens left", decision(pd(bursty(), denied(0, 7 * SECOND, status(2, 7 * SECOND))))),
        Map.entry("two enforced and a shadow denied",
            decision(
                pd(login(), denied(0, 12 * SECOND, status(0, 12 * SECOND), status(5, SECOND))),
                pd(search(Mode.ENFORCE), denied(0, 30 * SECOND, status(0, 30 * SECOND))),
                pd(search(Mode.SHADOW), denied(0, 50 * SECOND, status(0, 50 * SECOND))))),
        Map.entry("allowed and denied", decision(
            pd(login(), allowed(status(4, SECOND), status(19, SECOND))),
            pd(search(Mode.ENFORCE), denied(0, 4 * SECOND, status(0, 4 * SECOND))))),
        Map.entry("store error beside a denial", decision(
            PolicyDecision.storeError(login(), IP, OnError.DENY),
            pd(search(Mode.ENFORCE), denied(0, 4 * SECOND, status(0, 4 * SECOND))))),
        Map.entry("only a store error", decision(PolicyDecision.storeError(login(), IP, OnError.DENY))),
        Map.entry("no denial at all", decision(pd(search(Mode.ENFORCE), allowed(status(3, SECOND))))),
        Map.entry("escaped limit text", decision(pd(odd(), denied(0, 5 * SECOND, status(0, 5 * SECOND), status(9, SECOND))))),
        Map.entry("escaped text, long wait", decision(
            pd(odd(), denied(1, 86_399 * SECOND + 5, status(1, SECOND), status(0, 86_399 * SECOND + 5))))),
        Map.entry("wait beyond the number cache", decision(
            pd(login(), denied(1, 123_456_789 * SECOND, status(0, 0), status(0, 123_456_789 * SECOND))))),
        Map.entry("negative remaining", decision(pd(search(Mode.ENFORCE), denied(0, SECOND, new LimitStatus(-3, SECOND, SECOND))))));
  }

  @Test
  void tooManyRequests_everyDecisionAndStyle_isByteForByteTheJacksonResponse() {
    for (Map.Entry<String, Decision> c : decisions().entrySet()) {
      for (HeaderStyle style : HeaderStyle.values()) {
        String expected = wire(reference(c.getValue(), style));
        String actual = wire(Problems.tooManyRequests(c.getValue(), style, PooledByteBufAllocator.DEFAULT));
        assertThat(actual).as("%s, %s", c.getKey(), style).isEqualTo(expected);
      }
    }
  }

  @Test
  void tooManyRequests_escapedLimitText_isTheJacksonBody() {
    Decision d = decisions().get("escaped limit text");

    FullHttpResponse response = Problems.tooManyRequests(d, HeaderStyle.IETF);
    try {
      assertThat(response.content().toString(StandardCharsets.UTF_8)).isEqualTo(referenceBody(d)).contains("\\\"quoted\\\"");
    } finally {
      response.release();
    }
  }

  @Test
  void number_smallAndLarge_isTheDecimalText() {
    for (long n : new long[] {0, 1, 9, 10, 99, 4095, 4096, 1_000_000_007L, Long.MAX_VALUE, -1, Long.MIN_VALUE}) {
      assertThat(LimitTemplates.number(n).toString()).isEqualTo(Long.toString(n));
    }
  }

  @Test
  void of_samePolicy_buildsOnce() {
    Policy policy = login();

    assertThat(LimitTemplates.of(policy)).isSameAs(LimitTemplates.of(policy));
  }

  /** What the encoder puts on the wire for {@code response} (which it releases). */
  private static String wire(FullHttpResponse response) {
    EmbeddedChannel channel = new EmbeddedChannel(new HttpResponseEncoder());
    channel.writeOutbound(response);
    String out = WireText.drain(channel);
    channel.finishAndReleaseAll();
    return out;
  }

  // ---- the reference: the Jackson-built 429 that the templates replaced

  private static FullHttpResponse reference(Decision decision, HeaderStyle style) {
    long retryAfter = Math.max(1, decision.retryAfterSeconds());
    byte[] bytes = referenceBody(decision).getBytes(StandardCharsets.UTF_8);
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.TOO_MANY_REQUESTS, Unpooled.wrappedBuffer(bytes));
    HttpHeaders headers = response.headers();
    headers.set(HttpHeaderNames.CONTENT_TYPE, "application/problem+json");
    headers.setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    headers.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
    headers.set(HttpHeaderNames.RETRY_AFTER, Long.toString(retryAfter));
    decision.denying().filter(pd -> !pd.storeError()).ifPresent(pd -> {
      if (pd.shadow() || pd.consumption() == null || pd.limitIndex() >= pd.consumption().limits().size()) {
        return;
      }
      long remaining = pd.consumption().limits().get(pd.limitIndex()).remaining();
      Policy policy = pd.policy();
      int index = pd.limitIndex();
      if (style == HeaderStyle.IETF || style == HeaderStyle.BOTH) {
        headers.set("RateLimit-Policy", RateLimitHeaders.policyField(policy));
        StringBuilder sb = new StringBuilder();
        RateLimitHeaders.appendSfString(sb, policy.itemName(index));
        sb.append(";r=").append(Math.max(0, remaining)).append(";t=").append(Math.max(0, retryAfter));
        headers.set("RateLimit", sb.toString());
      }
      if (style == HeaderStyle.LEGACY || style == HeaderStyle.BOTH) {
        headers.set("X-RateLimit-Limit", Long.toString(policy.limits().get(index).quantity()));
        headers.set("X-RateLimit-Remaining", Long.toString(remaining));
        headers.set("X-RateLimit-Reset", Long.toString(retryAfter));
      }
    });
    return response;
  }

  private static String referenceBody(Decision decision) {
    long retryAfter = Math.max(1, decision.retryAfterSeconds());
    ObjectNode body = MAPPER.createObjectNode();
    body.put("type", Problems.QUOTA_EXCEEDED);
    body.put("title", "Too Many Requests");
    body.put("status", 429);
    PolicyDecision denying = decision.denying().filter(pd -> !pd.storeError()).orElse(null);
    ArrayNode violated = MAPPER.createArrayNode();
    for (PolicyDecision pd : decision.policies()) {
      int index = pd.limitIndex();
      if (!pd.shadow() && !pd.allowed() && !pd.storeError() && index >= 0 && index < pd.policy().limits().size()) {
        violated.add(pd.policy().itemName(index));
      }
    }
    String wait = retryAfter + (retryAfter == 1 ? " second." : " seconds.");
    if (denying != null) {
      String policy = denying.policy().name();
      String limit = denying.policy().limits().get(denying.limitIndex()).text();
      body.put("detail", "Rate limit \"" + limit + "\" of policy \"" + policy + "\" exceeded; retry in " + wait);
      body.set("violated-policies", violated);
      body.put("policy", policy);
      body.put("limit", limit);
    } else {
      body.put("detail", "Rate limit exceeded; retry in " + wait);
      body.set("violated-policies", violated);
    }
    body.put("retry_after", retryAfter);
    try {
      return new String(MAPPER.writeValueAsBytes(body), StandardCharsets.UTF_8);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }
}
