package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.EdgeSettings;
import dev.sluice.config.HeaderStyle;
import dev.sluice.config.SluiceConfig;
import dev.sluice.gateway.Gateway;
import dev.sluice.gateway.metrics.GatewayMetrics;
import dev.sluice.match.EncodedSlashes;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.ManualClock;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The start-up warm-up: every synthetic request is refused and none is forwarded, it is bounded
 * by its count and its time budget, and a gateway that ran it has no trace of it — no bucket, no
 * counted request, no audit or access log line, no upstream request — and decides its first real
 * requests exactly as a gateway without it.
 */
class WarmupTest {
  @TempDir Path dir;

  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void run_everySyntheticRequestIsRefused_throughTheEngineAndItsListeners() {
    PrometheusMeterRegistry scratch = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try {
      GatewayMetrics metrics = new GatewayMetrics(scratch);
      Warmup.Report report = Warmup.of(1_600, Duration.ofMinutes(1))
          .run(HeaderStyle.IETF, EncodedSlashes.DECODE, EdgeSettings.defaults(), metrics, metrics);

      assertThat(report.requests()).isEqualTo(1_600);
      assertThat(report.refused()).isEqualTo(1_600);
      // The scratch listener saw them: the requests really went through the engine. The 4
      // allowed ones are the synthetic clients' tokens, spent directly on the scratch engine.
      assertThat(count(scratch, "warm-up", "limited")).isEqualTo(1_600);
      assertThat(count(scratch, "warm-up", "allowed")).isEqualTo(4);
    } finally {
      scratch.close();
    }
  }

  @Test
  void run_stopsAtItsTimeBudget() {
    Warmup.Report report = Warmup.of(Integer.MAX_VALUE, Duration.ofMillis(300))
        .run(HeaderStyle.IETF, EncodedSlashes.DECODE, EdgeSettings.defaults(), null, null);

    assertThat(report.requests()).isPositive().isLessThan(Integer.MAX_VALUE);
    assertThat(report.refused()).isEqualTo(report.requests());
    // The budget is checked between batches of 16 requests; a loaded machine may stretch one batch.
    assertThat(report.took()).isGreaterThanOrEqualTo(Duration.ofMillis(300)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void gatewayThatWarmedUp_hasNoTraceOfIt_andDecidesItsFirstRequestsAsUsual() throws Exception {
    Path audit = dir.resolve("audit.jsonl");
    Path access = dir.resolve("access.jsonl");
    try (TestUpstream upstream = TestUpstream.start()) {
      Files.writeString(dir.resolve("sluice.yaml"), """
          version: 1
          gateway:
            listen: 127.0.0.1:0
            upstream: http://127.0.0.1:%d
            admin: 127.0.0.1:0
          audit_log: audit.jsonl
          access_log: access.jsonl
          policies:
            - name: api
              match: { paths: ["/**"] }
              by: ip
              limits: ["2/minute"]
          """.formatted(upstream.port()));
      SluiceConfig config = ConfigLoader.load(dir.resolve("sluice.yaml"));
      MemoryStore store = new MemoryStore(new ManualClock(), 10_000);
      Gateway gateway = Gateway.start(config, store, new ManualClock(), Warmup.of(3_200, Duration.ofMinutes(1)));
      try {
        assertThat(store.size()).as("buckets in the gateway's store").isZero();
        assertThat(upstream.connections()).as("upstream connections").isZero();
        assertThat(gateway.registry().find("sluice.requests").counters()).as("counted requests").isEmpty();
        assertThat(gateway.registry().get("sluice.decision").timer().count()).isZero();
        assertThat(gateway.registry().getMeters()).extracting(WarmupTest::describe)
            .noneMatch(m -> m.contains("warm-up"));

        assertThat(get(gateway, "/items")).isEqualTo(200);
        assertThat(get(gateway, "/items")).isEqualTo(200);
        assertThat(get(gateway, "/items")).isEqualTo(429);
        assertThat(upstream.received()).hasSize(2);
        assertThat(store.size()).isEqualTo(1);
        assertThat(count(gateway.registry(), "api", "allowed")).isEqualTo(2);
        assertThat(count(gateway.registry(), "api", "limited")).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> gateway.accessLog().written() == 3);
      } finally {
        gateway.close();
      }
    }
    List<String> accessLines = Files.readAllLines(access, StandardCharsets.UTF_8);
    assertThat(accessLines).hasSize(3).allMatch(line -> line.contains("\"client_ip\":\"127.0.0.1\""));
    String auditText = Files.readString(audit, StandardCharsets.UTF_8);
    assertThat(auditText).doesNotContain("warm-up").doesNotContain("198.51.100.");
    // The audit log has a line per refusal: the one real 429, written before close() returned.
    assertThat(auditText.lines().toList()).hasSize(1).allMatch(line -> line.contains("\"policy\":\"api\""));
  }

  @Test
  void parse_offAndCounts_orAnExactError() {
    assertThat(Warmup.parse(null)).isSameAs(Warmup.DEFAULT);
    assertThat(Warmup.parse(" ")).isSameAs(Warmup.DEFAULT);
    assertThat(Warmup.parse("off")).isSameAs(Warmup.NONE);
    assertThat(Warmup.parse("0")).isSameAs(Warmup.NONE);
    assertThat(Warmup.NONE.enabled()).isFalse();
    assertThat(Warmup.parse("5000").requests()).isEqualTo(5_000);
    assertThat(Warmup.parse("5000").budget()).isEqualTo(Warmup.DEFAULT_BUDGET);
    assertThatThrownBy(() -> Warmup.parse("lots"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("sluice.warmup: 'lots' is not a request count; expected off or a number of requests such as 20000");
    assertThatThrownBy(() -> Warmup.parse("-3"))
        .hasMessage("sluice.warmup: '-3' is not a request count; expected off or a number of requests such as 20000");
  }

  private int get(Gateway gateway, String path) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.address().getPort() + path))
        .timeout(Duration.ofSeconds(30)).build();
    return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static double count(io.micrometer.core.instrument.MeterRegistry registry, String policy, String outcome) {
    Counter counter = registry.find("sluice.requests").tag("policy", policy).tag("outcome", outcome).counter();
    return counter == null ? 0 : counter.count();
  }

  private static String describe(Meter meter) {
    return meter.getId().getName() + meter.getId().getTags();
  }
}
