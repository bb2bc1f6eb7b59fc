package dev.sluice.gateway.metrics;

import static dev.sluice.gateway.response.Decisions.SECOND;
import static dev.sluice.gateway.response.Decisions.allowed;
import static dev.sluice.gateway.response.Decisions.decision;
import static dev.sluice.gateway.response.Decisions.denied;
import static dev.sluice.gateway.response.Decisions.login;
import static dev.sluice.gateway.response.Decisions.pd;
import static dev.sluice.gateway.response.Decisions.request;
import static dev.sluice.gateway.response.Decisions.search;
import static dev.sluice.gateway.response.Decisions.status;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.engine.Decision;
import dev.sluice.engine.Engine;
import dev.sluice.event.DecisionListener;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.time.Clock;
import dev.sluice.store.Consumption;
import dev.sluice.store.Store;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.gateway.response.Decisions;
import dev.sluice.limit.Limit;
import dev.sluice.policy.Mode;
import dev.sluice.policy.OnError;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.algorithm.Algorithm;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.ManualClock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import dev.sluice.gateway.audit.AuditLog;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.io.TempDir;
import java.util.List;
import org.junit.jupiter.api.Test;

class GatewayMetricsTest {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final GatewayMetrics metrics = new GatewayMetrics(registry);

  private String scrape() {
    return registry.scrape();
  }

  @Test
  void onDecision_countsEachPolicyUnderItsOutcome() {
    Decision d = decision(
        pd(login(), denied(0, 12 * SECOND, status(0, 12 * SECOND), status(5, SECOND))),
        pd(search(Mode.SHADOW), denied(0, 5 * SECOND, status(0, 5 * SECOND))));
    metrics.onDecision(request("POST", "/auth/login"), d, 1_000);
    metrics.onDecision(request("POST", "/auth/login"),
        decision(pd(login(), allowed(status(3, SECOND), status(10, SECOND)))), 2_000);

    assertThat(scrape())
        .contains("sluice_requests_total{outcome=\"limited\",policy=\"login\",via=\"gateway\"} 1.0")
        .contains("sluice_requests_total{outcome=\"allowed\",policy=\"login\",via=\"gateway\"} 1.0")
        .contains("sluice_requests_total{outcome=\"shadow_limited\",policy=\"search\",via=\"gateway\"} 1.0");
  }

  @Test
  void onDecision_exempt_countedUnderEmptyPolicy() {
    metrics.onDecision(request("GET", "/"), Decision.exempt(Decisions.client()), 500);
    metrics.onDecision(request("GET", "/"), Decision.exempt(Decisions.client()), 500);

    assertThat(scrape()).contains("sluice_requests_total{outcome=\"exempt\",policy=\"\",via=\"gateway\"} 2.0");
  }

  @Test
  void blocked_banningPolicy_countedAsBlocked() {
    metrics.blocked("login");

    assertThat(scrape()).contains("sluice_requests_total{outcome=\"blocked\",policy=\"login\",via=\"gateway\"} 1.0");
  }

  @Test
  void onDecision_storeError_countsStoreErrorAndOutcomeOfOnError() {
    metrics.onDecision(request("GET", "/api/search"),
        decision(PolicyDecision.storeError(search(Mode.ENFORCE), Decisions.IP, OnError.ALLOW)), 50_000_000);
    metrics.onDecision(request("GET", "/api/search"),
        decision(PolicyDecision.storeError(search(Mode.ENFORCE), Decisions.IP, OnError.DENY)), 50_000_000);

    assertThat(scrape())
        .contains("sluice_store_errors_total 2.0")
        .contains("sluice_requests_total{outcome=\"allowed\",policy=\"search\",via=\"gateway\"} 1.0")
        .contains("sluice_requests_total{outcome=\"limited\",policy=\"search\",via=\"gateway\"} 1.0");
  }

  @Test
  void onDecision_recordsDecisionHistogramInSeconds() {
    metrics.onDecision(request("GET", "/"), Decision.exempt(Decisions.client()), 300_000); // 0.3 ms

    assertThat(scrape())
        .contains("# TYPE sluice_decision_seconds histogram")
        .contains("sluice_decision_seconds_bucket{le=\"2.5E-4\"} 0")
        .contains("sluice_decision_seconds_bucket{le=\"5.0E-4\"} 1")
        .contains("sluice_decision_seconds_count 1")
        .contains("sluice_decision_seconds_sum 3.0E-4");
  }

  @Test
  void onDecision_notTimed_countsTheRequestButNoDecisionTime() {
    metrics.onDecision(request("GET", "/"), Decision.exempt(Decisions.client()), DecisionListener.NOT_TIMED);

    assertThat(scrape())
        .contains("sluice_requests_total{outcome=\"exempt\",policy=\"\",via=\"gateway\"} 1.0")
        .contains("sluice_decision_seconds_count 0")
        .contains("sluice_decision_seconds_sum 0.0");
  }

  @Test
  void decisionTimingOneIn_memoryStoreSampled_otherStoresEveryDecision() {
    assertThat(GatewayMetrics.decisionTimingOneIn(new MemoryStore(new ManualClock()))).isEqualTo(16);
    Store remote = new Store() { // a store that does I/O (like Redis): answers through a stage
      @Override
      public CompletionStage<Consumption> tryConsume(BucketKey key, BucketSpec spec, long cost) {
        return new CompletableFuture<>();
      }

      @Override
      public CompletionStage<Void> ping() {
        return CompletableFuture.completedFuture(null);
      }

      @Override
      public void close() {}
    };
    assertThat(GatewayMetrics.decisionTimingOneIn(remote)).isEqualTo(1);
  }

  /** The sampling documented in docs/operations.md, through a real engine on the memory store. */
  @Test
  void decisionSeconds_memoryStore_aboutOneDecisionIn16_whileRequestCountsStayExact() {
    MemoryStore store = new MemoryStore(new ManualClock(), 10_000);
    PolicySet set = PolicySet.builder()
        .identity(IdentityResolver.builder().build())
        .policy(Policy.builder("api").paths(List.of("/api/**")).limits(List.of(Limit.of(1, Duration.ofHours(1)))).build())
        .build();
    Engine engine = Engine.builder().policies(set).store(store).clock(Clock.system()).listener(metrics)
        .timeOneIn(GatewayMetrics.decisionTimingOneIn(store)).build();
    int decisions = 16_000;
    for (int i = 0; i < decisions; i++) {
      assertThat(engine.decideNow(request("GET", "/api/x"))).isNotNull();
    }

    String text = scrape();
    assertThat(text)
        .contains("sluice_requests_total{outcome=\"allowed\",policy=\"api\",via=\"gateway\"} 1.0")
        .contains("sluice_requests_total{outcome=\"limited\",policy=\"api\",via=\"gateway\"} 15999.0")
        .contains("# HELP sluice_decision_seconds Time the engine took to decide a request; with the memory store"
            + " a random sample of about one decision in 16 (the count is not the request count)");
    Matcher count = Pattern.compile("(?m)^sluice_decision_seconds_count (\\d+)$").matcher(text);
    assertThat(count.find()).as("sluice_decision_seconds_count in\n%s", text).isTrue();
    // Binomial(16000, 1/16): mean 1000, standard deviation 30.6; the bounds are 4.9 deviations.
    assertThat(Long.parseLong(count.group(1))).isBetween(850L, 1150L);
  }

  @Test
  void upstreamResponse_recordsByStatusClass() {
    metrics.upstreamResponse(200, 20_000_000);
    metrics.upstreamResponse(204, 20_000_000);
    metrics.upstreamResponse(503, 2_000_000_000L);
    metrics.upstreamResponse(999, 1);

    assertThat(scrape())
        .contains("# TYPE sluice_upstream_seconds histogram")
        .contains("sluice_upstream_seconds_count{status=\"2xx\"} 2")
        .contains("sluice_upstream_seconds_count{status=\"5xx\"} 2")
        .contains("sluice_upstream_seconds_count{status=\"4xx\"} 0")
        .contains("sluice_upstream_seconds_bucket{status=\"5xx\",le=\"2.5\"} 2");
  }

  @Test
  void bindStore_memoryStore_exposesItsBoundCounters() {
    ManualClock clock = new ManualClock();
    MemoryStore store = new MemoryStore(clock, 2);
    metrics.bindStore(store);
    BucketSpec spec = new BucketSpec(Algorithm.GCRA, List.of(Limit.of(10, Duration.ofHours(1))));
    // Three keys that are all far from full into a store of two: the third is refused, none evicted.
    for (int i = 0; i < 3; i++) {
      BucketKey key = new BucketKey("p", "ip:10.0.0." + i);
      for (int n = 0; n < 5; n++) {
        store.tryConsume(key, spec, 1).toCompletableFuture().exceptionally(e -> null).join();
      }
    }
    store.recordOffence("p|a", Duration.ofDays(1).toNanos());
    store.recordOffence("p|b", Duration.ofDays(1).toNanos());
    store.recordOffence("p|c", Duration.ofDays(1).toNanos()).toCompletableFuture().exceptionally(e -> null).join();

    assertThat(store.refusedKeys()).isEqualTo(5);
    assertThat(scrape())
        .contains("sluice_store_evictions_total 0.0")
        .contains("sluice_store_refused_keys_total 5.0")
        .contains("sluice_penalties_refused_total 1.0");
  }

  @Test
  void bindAuditLog_disabledLog_registersNothing() {
    metrics.bindAuditLog(AuditLog.open(Optional.empty()));

    assertThat(scrape()).doesNotContain("sluice_audit_dropped");
  }

  @Test
  void bindAuditLog_enabledLog_exposesDroppedCounter(@TempDir Path dir) {
    AuditLog audit = AuditLog.open(Optional.of(dir.resolve("a.jsonl").toString()));
    try {
      metrics.bindAuditLog(audit);

      assertThat(scrape()).contains("# TYPE sluice_audit_dropped_total counter").contains("sluice_audit_dropped_total 0.0");
    } finally {
      audit.close();
    }
  }
}
