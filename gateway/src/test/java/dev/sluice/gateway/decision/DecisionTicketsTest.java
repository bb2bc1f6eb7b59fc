package dev.sluice.gateway.decision;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.time.ManualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Tickets (SPEC §8) over real sockets, on an injected clock: a {@code concurrency:} permit is
 * held until the settle, settling twice has no second effect, an unknown ticket is 404, and a
 * ticket left unsettled expires after {@code decision.ticket_lease}, releasing its permit. {@code
 * count:} keeps or refunds its token by the settled status.
 */
class DecisionTicketsTest {
  private static final String POLICIES = """
      policies:
        - name: exports
          match: { paths: ["/export"] }
          by: ip
          concurrency: 1
          limits: ["1000/minute"]
        - name: login-failures
          match: { methods: [POST], paths: ["/auth/login"] }
          by: ip
          count: { status: [401, 403] }
          limits: ["2/15 minutes"]
        - name: plain
          match: { paths: ["/plain"] }
          by: ip
          limits: ["1000/minute"]
      """;

  private static DecisionFixture start(ManualClock clock) {
    return DecisionFixture.start(DecisionFixture.parse(DecisionFixture.yaml("", "  ticket_lease: 30s\n", POLICIES)),
        clock);
  }

  private static String export(String peer) {
    return "{\"method\":\"GET\",\"path\":\"/export\",\"peer\":\"" + peer + "\"}";
  }

  @Test
  void concurrencyPermit_isHeldUntilSettled_andSettlingTwiceHasNoSecondEffect() throws Exception {
    ManualClock clock = new ManualClock();
    try (DecisionFixture f = start(clock)) {
      JsonNode first = f.decide(export("203.0.113.1"));
      assertThat(first.get("allowed").asBoolean()).isTrue();
      String ticket = first.get("ticket").asText();
      assertThat(ticket).matches("[0-9a-f]{32}");
      JsonNode second = f.decide(export("203.0.113.1"));
      assertThat(second.get("status").asInt()).as("the permit is held").isEqualTo(429);
      assertThat(second.get("headers").get("RateLimit-Policy").asText()).contains("qu=\"concurrent-requests\"");
      assertThat(f.api().openTickets()).isEqualTo(1);

      assertThat(f.settle(ticket, 200)).isEqualTo(204);
      assertThat(f.api().openTickets()).isZero();
      JsonNode third = f.decide(export("203.0.113.1"));
      assertThat(third.get("allowed").asBoolean()).as("the permit came back").isTrue();

      // Settling the first ticket again must not release the third request's permit.
      assertThat(f.settle(ticket, 200)).isEqualTo(404);
      assertThat(f.decide(export("203.0.113.1")).get("status").asInt())
          .as("the third request still holds the permit").isEqualTo(429);
      assertThat(f.settle(third.get("ticket").asText(), 500)).isEqualTo(204);
    }
  }

  @Test
  void unknownTicket_is404() throws Exception {
    try (DecisionFixture f = start(new ManualClock())) {
      assertThat(f.settle("0123456789abcdef0123456789abcdef", 200)).isEqualTo(404);
      assertThat(f.post("/v1/settle", "{\"ticket\":\"\",\"status\":200}").statusCode()).isEqualTo(404);
    }
  }

  @Test
  void unsettledTicket_expiresAfterItsLease_andReleasesItsPermit() throws Exception {
    ManualClock clock = new ManualClock();
    try (DecisionFixture f = start(clock)) {
      String ticket = f.decide(export("203.0.113.2")).get("ticket").asText();
      clock.advance(Duration.ofSeconds(29));
      assertThat(f.api().expireTickets()).isZero();
      assertThat(f.decide(export("203.0.113.2")).get("status").asInt()).as("within the lease").isEqualTo(429);

      clock.advance(Duration.ofSeconds(1));
      assertThat(f.api().expireTickets()).isEqualTo(1);
      assertThat(f.api().openTickets()).isZero();
      JsonNode after = f.decide(export("203.0.113.2"));
      assertThat(after.get("allowed").asBoolean()).as("the expired ticket's permit is free").isTrue();
      assertThat(f.settle(ticket, 200)).as("an expired ticket is unknown").isEqualTo(404);
      assertThat(f.settle(after.get("ticket").asText(), 200)).isEqualTo(204);
    }
  }

  @Test
  void aSettleAfterTheLease_is404EvenBeforeTheSweep() throws Exception {
    ManualClock clock = new ManualClock();
    try (DecisionFixture f = start(clock)) {
      String ticket = f.decide(export("203.0.113.3")).get("ticket").asText();
      clock.advance(Duration.ofSeconds(31));
      assertThat(f.settle(ticket, 200)).isEqualTo(404);
      assertThat(f.decide(export("203.0.113.3")).get("allowed").asBoolean()).isTrue();
    }
  }

  @Test
  void count_onlyStatusesItCountsConsumeTheirToken() throws Exception {
    try (DecisionFixture f = start(new ManualClock())) {
      String login = "{\"method\":\"POST\",\"path\":\"/auth/login\",\"peer\":\"203.0.113.4\"}";
      for (int i = 0; i < 5; i++) {
        JsonNode ok = f.decide(login);
        assertThat(ok.get("allowed").asBoolean()).as("successful login %d", i).isTrue();
        assertThat(f.settle(ok.get("ticket").asText(), 200)).isEqualTo(204);
      }
      for (int i = 0; i < 2; i++) {
        JsonNode failed = f.decide(login);
        assertThat(failed.get("allowed").asBoolean()).as("failed login %d", i).isTrue();
        assertThat(f.settle(failed.get("ticket").asText(), 401)).isEqualTo(204);
      }
      JsonNode refused = f.decide(login);
      assertThat(refused.get("status").asInt()).isEqualTo(429);
      assertThat(refused.get("body").get("policy").asText()).isEqualTo("login-failures");
    }
  }

  @Test
  void noTicket_whenNothingNeedsTheOutcome() throws Exception {
    try (DecisionFixture f = start(new ManualClock())) {
      JsonNode plain = f.decide("{\"method\":\"GET\",\"path\":\"/plain\",\"peer\":\"203.0.113.5\"}");
      assertThat(plain.get("ticket").isNull()).isTrue();
      assertThat(f.api().openTickets()).isZero();
    }
  }
}
