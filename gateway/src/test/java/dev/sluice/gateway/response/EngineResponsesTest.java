package dev.sluice.gateway.response;

import static dev.sluice.gateway.response.Decisions.EXEMPT_KEY;
import static dev.sluice.gateway.response.Decisions.decide;
import static dev.sluice.gateway.response.Decisions.engine;
import static dev.sluice.gateway.response.Decisions.login;
import static dev.sluice.gateway.response.Decisions.request;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.config.HeaderStyle;
import dev.sluice.engine.Decision;
import dev.sluice.engine.Engine;
import dev.sluice.engine.Outcome;
import dev.sluice.event.DecisionListener;
import dev.sluice.policy.Mode;
import dev.sluice.request.RequestView;
import dev.sluice.time.ManualClock;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Formatting of decisions made by the real engine, memory store and a manual clock. */
class EngineResponsesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final RequestView LOGIN = request("POST", "/auth/login");

  private final ManualClock clock = new ManualClock();
  private final Engine engine = engine(clock, DecisionListener.none(), login(), Decisions.search(Mode.SHADOW));

  private static HttpHeaders headers(HeaderStyle style, Decision decision) {
    HttpHeaders headers = new DefaultHttpHeaders();
    RateLimitHeaders.apply(style, decision, headers);
    return headers;
  }

  @Test
  void login_firstRequest_reportsMinuteLimitWithFourLeft() {
    Decision first = decide(engine, LOGIN);

    HttpHeaders headers = headers(HeaderStyle.BOTH, first);

    assertThat(first.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(headers.get("RateLimit-Policy")).isEqualTo("\"login/1\";q=5;w=60, \"login/2\";q=20;w=3600");
    assertThat(headers.get("RateLimit")).isEqualTo("\"login/1\";r=4;t=12");
    assertThat(headers.get("X-RateLimit-Limit")).isEqualTo("5");
    assertThat(headers.get("X-RateLimit-Remaining")).isEqualTo("4");
    assertThat(headers.get("X-RateLimit-Reset")).isEqualTo("12");
  }

  @Test
  void login_sixthRequestInAMinute_is429NamingTheMinuteLimit() throws Exception {
    for (int i = 0; i < 5; i++) {
      assertThat(decide(engine, LOGIN).outcome()).isEqualTo(Outcome.ALLOWED);
    }
    clock.advance(Duration.ofSeconds(3));
    Decision sixth = decide(engine, LOGIN);

    FullHttpResponse response = Problems.tooManyRequests(sixth, HeaderStyle.IETF);
    HttpHeaders headers = response.headers();
    JsonNode body = JSON.readTree(response.content().toString(StandardCharsets.UTF_8));
    response.release();

    assertThat(sixth.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(headers.get("Retry-After")).isEqualTo("9");
    assertThat(headers.get("RateLimit")).isEqualTo("\"login/1\";r=0;t=9");
    assertThat(body.get("detail").asText())
        .isEqualTo("Rate limit \"5/minute\" of policy \"login\" exceeded; retry in 9 seconds.");
    assertThat(body.get("violated-policies").toString()).isEqualTo("[\"login/1\"]");
    assertThat(body.get("retry_after").asLong()).isEqualTo(9);
  }

  @Test
  void login_afterRetryAfter_isAllowedWithNoTokenLeft() {
    for (int i = 0; i < 5; i++) {
      decide(engine, LOGIN);
    }
    long retryAfter = decide(engine, LOGIN).retryAfterSeconds();
    clock.advance(Duration.ofSeconds(retryAfter));

    Decision next = decide(engine, LOGIN);

    assertThat(next.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(headers(HeaderStyle.IETF, next).get("RateLimit")).isEqualTo("\"login/1\";r=0;t=12");
  }

  @Test
  void shadowPolicyOnly_addsNoFields() {
    RequestView search = request("GET", "/api/search");
    Decision last = null;
    for (int i = 0; i < 101; i++) {
      last = decide(engine, search);
    }

    assertThat(last.policies()).singleElement().satisfies(pd -> assertThat(pd.outcomeLabel()).isEqualTo("shadow_limited"));
    assertThat(last.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(headers(HeaderStyle.BOTH, last).isEmpty()).isTrue();
  }

  @Test
  void exemptApiKey_addsNoFields() {
    Decision exempt = decide(engine, request("POST", "/auth/login", null, Map.of("x-api-key", EXEMPT_KEY)));

    assertThat(exempt.outcome()).isEqualTo(Outcome.EXEMPT);
    assertThat(headers(HeaderStyle.BOTH, exempt).isEmpty()).isTrue();
  }
}
