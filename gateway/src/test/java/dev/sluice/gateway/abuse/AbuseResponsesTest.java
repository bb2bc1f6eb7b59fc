package dev.sluice.gateway.abuse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.identity.Cidr;
import dev.sluice.identity.CidrSet;
import dev.sluice.policy.Penalty;
import dev.sluice.store.Ban;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The gateway's answers for {@code block:} (403) and bans (429 abnormal usage), with metrics and audit. */
@Timeout(30)
class AbuseResponsesTest {
  @TempDir Path dir;
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

  private String metrics() throws Exception {
    return gateway.send(HttpRequest.newBuilder(gateway.admin("/metrics")).GET().build()).body();
  }

  @Test
  void blockedIp_gets403ProblemCountedBlockedWithEmptyPolicyAndAudited() throws Exception {
    Path audit = dir.resolve("audit.jsonl");
    gateway = AbuseGateway.builder(upstream.port())
        .auditLog(audit)
        .policies(p -> p.blockIps(CidrSet.of(List.of(Cidr.parse("127.0.0.0/8")))))
        .policy(AbuseGateway.policy("api", "/api/**", "ip", "100/minute").build())
        .start();

    HttpResponse<String> response = gateway.get("/api/orders");

    assertThat(response.statusCode()).isEqualTo(403);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(response.body()).contains("\"status\":403").contains("block list");
    assertThat(upstream.received()).isEmpty();
    assertThat(metrics()).contains("sluice_requests_total{outcome=\"blocked\",policy=\"\",via=\"gateway\"} 1.0");
    await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(audit) && Files.readString(audit).contains("blocked"));
    assertThat(Files.readString(audit))
        .contains("\"policy\":\"\"").contains("\"outcome\":\"blocked\"").contains("\"client_ip\":\"127.0.0.1\"");
  }

  @Test
  void bannedIdentity_gets429AbnormalUsageWithRemainingBanCountedOnceAndAudited() throws Exception {
    Path audit = dir.resolve("audit.jsonl");
    gateway = AbuseGateway.builder(upstream.port())
        .auditLog(audit)
        .policy(AbuseGateway.policy("login", "/login", "ip", "100/minute").build())
        .start();
    long expires = System.currentTimeMillis() + Duration.ofMinutes(10).toMillis();
    gateway.gateway.engine().bans().put(Ban.of("login", "ip:127.0.0.1", expires, "test")).toCompletableFuture().join();

    HttpResponse<String> response = gateway.get("/login");

    assertThat(response.statusCode()).isEqualTo(429);
    long retryAfter = Long.parseLong(response.headers().firstValue("Retry-After").orElseThrow());
    assertThat(retryAfter).isBetween(590L, 600L);
    assertThat(response.headers().firstValue("RateLimit")).isEmpty();
    assertThat(response.body())
        .contains("\"type\":\"https://iana.org/assignments/http-problem-types#abnormal-usage-detected\"")
        .contains("\"violated-policies\":[\"login\"]")
        .contains("\"retry_after\":" + retryAfter)
        .doesNotContain("127.0.0.1");
    assertThat(upstream.received()).isEmpty();
    assertThat(metrics())
        .contains("sluice_requests_total{outcome=\"blocked\",policy=\"login\",via=\"gateway\"} 1.0")
        .doesNotContain("sluice_requests_total{outcome=\"blocked\",policy=\"\",via=\"gateway\"}");
    await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(audit) && Files.readString(audit).contains("blocked"));
    String line = Files.readString(audit);
    assertThat(line).contains("\"policy\":\"login\"").contains("\"outcome\":\"blocked\"");
    long audited = Long.parseLong(line.replaceAll("(?s).*\"retry_after\":(\\d+).*", "$1"));
    assertThat(audited).isBetween(590L, 600L);
  }

  @Test
  void penalty_trippingRequestIsBlockedForTheBan() throws Exception {
    gateway = AbuseGateway.builder(upstream.port())
        .policy(AbuseGateway.policy("login", "/login", "ip", "1/minute")
            .penalty(Penalty.of(Duration.ofMinutes(15)))
            .build())
        .start();

    assertThat(gateway.get("/login").statusCode()).isEqualTo(200);
    HttpResponse<String> tripped = gateway.get("/login");
    HttpResponse<String> after = gateway.get("/login");

    assertThat(tripped.statusCode()).isEqualTo(429);
    assertThat(tripped.body()).contains("abnormal-usage-detected");
    assertThat(Long.parseLong(tripped.headers().firstValue("Retry-After").orElseThrow())).isBetween(890L, 900L);
    assertThat(after.statusCode()).isEqualTo(429);
    assertThat(after.body()).contains("abnormal-usage-detected");
    assertThat(upstream.received()).hasSize(1);
  }
}
