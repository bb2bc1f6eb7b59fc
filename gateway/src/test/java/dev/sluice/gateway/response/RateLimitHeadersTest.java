package dev.sluice.gateway.response;

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

import dev.sluice.config.HeaderStyle;
import dev.sluice.engine.Decision;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.policy.Mode;
import dev.sluice.policy.OnError;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class RateLimitHeadersTest {

  private static Map<String, String> apply(HeaderStyle style, Decision decision) {
    HttpHeaders headers = new DefaultHttpHeaders();
    RateLimitHeaders.apply(style, decision, headers);
    Map<String, String> result = new TreeMap<>();
    headers.forEach(e -> result.merge(e.getKey(), e.getValue(), (a, b) -> a + " | " + b));
    return result;
  }

  @Test
  void apply_singleLimitAllowed_namesPolicyWithoutIndex() {
    Decision d = decision(pd(search(Mode.ENFORCE), allowed(status(99, 600_000_000L))));

    assertThat(apply(HeaderStyle.IETF, d)).containsExactly(
        Map.entry("RateLimit", "\"search\";r=99;t=1"),
        Map.entry("RateLimit-Policy", "\"search\";q=100;w=60"));
  }

  @Test
  void apply_multiLimitAllowed_listsEveryLimitAndReportsTheTightest() {
    // 5/minute has 1 left, 20/hour has 17 left: the minute limit is the most restrictive.
    Decision d = decision(pd(login(), allowed(status(1, 12 * SECOND - 5), status(17, 180 * SECOND))));

    assertThat(apply(HeaderStyle.IETF, d)).containsExactly(
        Map.entry("RateLimit", "\"login/1\";r=1;t=12"),
        Map.entry("RateLimit-Policy", "\"login/1\";q=5;w=60, \"login/2\";q=20;w=3600"));
  }

  @Test
  void apply_multiLimitWhereSecondIsTighter_reportsSecondItem() {
    Decision d = decision(pd(login(), allowed(status(4, 12 * SECOND), status(0, 180 * SECOND))));

    assertThat(apply(HeaderStyle.IETF, d)).containsEntry("RateLimit", "\"login/2\";r=0;t=180");
  }

  @Test
  void apply_limited_namesDenyingLimitWithRetryAfterAsT() {
    // The hour limit denied: 1 token left of 20 but cost 2 would be an over-draw; retry in 90.5s.
    Decision d = decision(pd(login(), denied(1, 90 * SECOND + SECOND / 2, status(3, 0), status(0, 90 * SECOND))));

    assertThat(apply(HeaderStyle.IETF, d)).containsExactly(
        Map.entry("RateLimit", "\"login/2\";r=0;t=91"),
        Map.entry("RateLimit-Policy", "\"login/1\";q=5;w=60, \"login/2\";q=20;w=3600"));
    assertThat(d.retryAfterSeconds()).isEqualTo(91);
  }

  @Test
  void apply_burstDifferentFromQuantity_addsSluiceBurstParameter() {
    Decision d = decision(pd(bursty(), allowed(status(19, 0))));

    assertThat(apply(HeaderStyle.IETF, d)).containsExactly(
        Map.entry("RateLimit", "\"api\";r=19;t=0"),
        Map.entry("RateLimit-Policy", "\"api\";q=10;w=1;sluice-burst=20"));
  }

  @Test
  void apply_legacy_sendsLimitRemainingAndDeltaReset() {
    Decision d = decision(pd(login(), allowed(status(1, 12 * SECOND), status(17, 180 * SECOND))));

    assertThat(apply(HeaderStyle.LEGACY, d)).containsExactly(
        Map.entry("X-RateLimit-Limit", "5"),
        Map.entry("X-RateLimit-Remaining", "1"),
        Map.entry("X-RateLimit-Reset", "12"));
  }

  @Test
  void apply_both_sendsBothFamilies() {
    Decision d = decision(pd(search(Mode.ENFORCE), allowed(status(0, 600_000_000L))));

    assertThat(apply(HeaderStyle.BOTH, d)).containsExactly(
        Map.entry("RateLimit", "\"search\";r=0;t=1"),
        Map.entry("RateLimit-Policy", "\"search\";q=100;w=60"),
        Map.entry("X-RateLimit-Limit", "100"),
        Map.entry("X-RateLimit-Remaining", "0"),
        Map.entry("X-RateLimit-Reset", "1"));
  }

  @Test
  void apply_none_sendsNothing() {
    Decision d = decision(pd(search(Mode.ENFORCE), allowed(status(0, 600_000_000L))));

    assertThat(apply(HeaderStyle.NONE, d)).isEmpty();
  }

  @Test
  void apply_shadowOnlyPolicyThatWouldLimit_sendsNothing() {
    Decision d = decision(pd(search(Mode.SHADOW), denied(0, 5 * SECOND, status(0, 5 * SECOND))));

    assertThat(apply(HeaderStyle.BOTH, d)).isEmpty();
  }

  @Test
  void apply_shadowAndEnforced_reportsOnlyEnforced() {
    Decision d = decision(
        pd(search(Mode.SHADOW), denied(0, 5 * SECOND, status(0, 5 * SECOND))),
        pd(login(), allowed(status(3, SECOND), status(10, SECOND))));

    assertThat(apply(HeaderStyle.IETF, d)).containsEntry("RateLimit", "\"login/1\";r=3;t=1");
  }

  @Test
  void apply_exempt_sendsNothing() {
    assertThat(apply(HeaderStyle.BOTH, Decision.exempt(Decisions.client()))).isEmpty();
  }

  @Test
  void apply_storeErrorUnderAllow_sendsNothing() {
    Decision d = decision(PolicyDecision.storeError(search(Mode.ENFORCE), Decisions.IP, OnError.ALLOW));

    assertThat(apply(HeaderStyle.BOTH, d)).isEmpty();
  }

  @Test
  void apply_upstreamSentItsOwnFields_areReplacedNotDuplicated() {
    HttpHeaders headers = new DefaultHttpHeaders();
    headers.add("RateLimit", "\"forged\";r=1000;t=0");
    headers.add("x-ratelimit-remaining", "1000");
    Decision d = decision(pd(search(Mode.ENFORCE), allowed(status(7, SECOND))));

    RateLimitHeaders.apply(HeaderStyle.BOTH, d, headers);

    assertThat(headers.getAll("RateLimit")).containsExactly("\"search\";r=7;t=1");
    assertThat(headers.getAll("X-RateLimit-Remaining")).containsExactly("7");
  }

  @Test
  void appendSfString_quoteAndBackslash_areEscaped() {
    StringBuilder sb = new StringBuilder();
    RateLimitHeaders.appendSfString(sb, "a\"b\\c");

    assertThat(sb).hasToString("\"a\\\"b\\\\c\"");
  }

  @Test
  void appendSfString_nonPrintableOrNonAscii_becomesQuestionMark() {
    StringBuilder sb = new StringBuilder();
    RateLimitHeaders.appendSfString(sb, "caf\u00e9\tx");

    assertThat(sb).hasToString("\"caf??x\"");
  }

  @Test
  void ceilSeconds_partialSecond_roundsUp() {
    assertThat(RateLimitHeaders.ceilSeconds(0)).isZero();
    assertThat(RateLimitHeaders.ceilSeconds(1)).isEqualTo(1);
    assertThat(RateLimitHeaders.ceilSeconds(SECOND)).isEqualTo(1);
    assertThat(RateLimitHeaders.ceilSeconds(SECOND + 1)).isEqualTo(2);
  }
}
