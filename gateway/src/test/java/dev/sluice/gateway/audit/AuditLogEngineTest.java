package dev.sluice.gateway.audit;

import static dev.sluice.gateway.response.Decisions.decide;
import static dev.sluice.gateway.response.Decisions.engine;
import static dev.sluice.gateway.response.Decisions.request;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.engine.Engine;
import dev.sluice.engine.Outcome;
import dev.sluice.event.DecisionListener;
import dev.sluice.gateway.metrics.GatewayMetrics;
import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.policy.Policy;
import dev.sluice.request.RequestView;
import dev.sluice.time.ManualClock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The audit log and metrics fed by the real engine, as the gateway wires them. */
class AuditLogEngineTest {
  private static final String RAW_KEY = "sk_live_51HcQ2vGm7Xp9TqRz";

  private static Policy reports() {
    return Policy.builder("reports").paths(List.of("/api/reports/**"))
        .by(List.of(new IdentitySpec(IdentityKind.API_KEY, null), new IdentitySpec(IdentityKind.IP, null)))
        .limits(List.of(Limit.of(1, Duration.ofMinutes(1))))
        .build();
  }

  @Test
  void limitedApiKeyRequest_auditLineHasHashedIdentityAndNoRawKeyAnywhere() throws Exception {
    StringWriter out = new StringWriter();
    AuditLog audit = new AuditLog(out, false, InstantSource.fixed(Instant.parse("2026-11-23T13:00:00Z")), 64);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    GatewayMetrics metrics = new GatewayMetrics(registry);
    DecisionListener both = (request, decision, nanos) -> {
      metrics.onDecision(request, decision, nanos);
      audit.onDecision(request, decision, nanos);
    };
    Engine engine = engine(new ManualClock(), both, reports());
    RequestView request = request("GET", "/api/reports/2026", "api_key=" + RAW_KEY,
        Map.of("x-api-key", RAW_KEY, "cookie", "session=" + RAW_KEY));

    assertThat(decide(engine, request).outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(decide(engine, request).outcome()).isEqualTo(Outcome.LIMITED);
    audit.close();

    String text = out.toString();
    assertThat(text).doesNotContain(RAW_KEY).doesNotContain("51HcQ2");
    assertThat(text.lines()).hasSize(1);
    JsonNode line = new ObjectMapper().readTree(text.lines().findFirst().orElseThrow());
    assertThat(line.get("time").asText()).isEqualTo("2026-11-23T13:00:00Z");
    assertThat(line.get("policy").asText()).isEqualTo("reports");
    assertThat(line.get("limit").asText()).isEqualTo(Limit.of(1, Duration.ofMinutes(1)).text());
    assertThat(line.get("outcome").asText()).isEqualTo("limited");
    assertThat(line.get("identity_kind").asText()).isEqualTo("api_key");
    assertThat(line.get("identity").asText()).isNotBlank().isNotEqualTo(RAW_KEY);
    assertThat(line.get("client_ip").asText()).isEqualTo("203.0.113.7");
    assertThat(line.get("method").asText()).isEqualTo("GET");
    assertThat(line.get("path").asText()).isEqualTo("/api/reports/2026");
    assertThat(line.get("retry_after").asLong()).isEqualTo(60);
    String scrape = registry.scrape();
    assertThat(scrape)
        .contains("sluice_requests_total{outcome=\"allowed\",policy=\"reports\",via=\"gateway\"} 1.0")
        .contains("sluice_requests_total{outcome=\"limited\",policy=\"reports\",via=\"gateway\"} 1.0")
        .contains("sluice_decision_seconds_count 2")
        .doesNotContain(RAW_KEY);
  }
}
