package dev.sluice.gateway.abuse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.policy.Priority;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code gateway.max_inflight} with priorities: with {@code max_inflight: 4}, low is admitted while
 * fewer than 2 are in flight, normal while fewer than 3, critical while fewer than 4.
 */
@Timeout(30)
class SheddingTest {
  private HoldingUpstream upstream;
  private AbuseGateway gateway;

  @BeforeEach
  void start() throws Exception {
    upstream = new HoldingUpstream();
    gateway = AbuseGateway.builder(upstream.port())
        .maxInflight(4)
        .policy(AbuseGateway.policy("reports", "/low/**", "ip", "1000/minute").priority(Priority.LOW).build())
        .policy(AbuseGateway.policy("login", "/crit/**", "ip", "1000/minute").priority(Priority.CRITICAL).build())
        .start();
  }

  @AfterEach
  void stop() {
    gateway.close();
    upstream.close();
  }

  private CompletableFuture<HttpResponse<String>> async(String target) {
    return gateway.client.sendAsync(HttpRequest.newBuilder(gateway.uri(target)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void overloaded_lowIsShedWhileCriticalStillGetsThrough() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> held = new ArrayList<>();
    held.add(async("/low/hold/1"));
    held.add(async("/low/hold/2"));
    await().atMost(Duration.ofSeconds(5)).until(() -> upstream.inflight() == 2);

    HttpResponse<String> shedLow = gateway.get("/low/hold/3");
    HttpResponse<String> shedNormal = gateway.get("/other/x"); // no policy: normal; 2 < 3 admits
    held.add(async("/crit/hold/1"));
    held.add(async("/crit/hold/2"));
    await().atMost(Duration.ofSeconds(5)).until(() -> upstream.inflight() == 4);
    HttpResponse<String> shedCritical = gateway.get("/crit/hold/3");
    HttpResponse<String> shedNormalNow = gateway.get("/other/y");

    assertThat(shedLow.statusCode()).isEqualTo(503);
    assertThat(shedLow.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(shedLow.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(shedLow.body())
        .contains("\"type\":\"https://iana.org/assignments/http-problem-types#temporary-reduced-capacity\"")
        .contains("\"priority\":\"low\"");
    assertThat(shedNormal.statusCode()).isEqualTo(200);
    assertThat(shedCritical.statusCode()).isEqualTo(503);
    assertThat(shedNormalNow.statusCode()).isEqualTo(503);
    assertThat(gateway.gateway.inflight()).isEqualTo(4);

    upstream.release(4);
    for (CompletableFuture<HttpResponse<String>> r : held) {
      assertThat(r.get().statusCode()).isEqualTo(200);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> gateway.gateway.inflight() == 0);
    String metrics = gateway.send(HttpRequest.newBuilder(gateway.admin("/metrics")).GET().build()).body();
    assertThat(metrics)
        .contains("sluice_shed_total{priority=\"low\"} 1.0")
        .contains("sluice_shed_total{priority=\"normal\"} 1.0")
        .contains("sluice_shed_total{priority=\"critical\"} 1.0");
    assertThat(gateway.get("/low/x").statusCode()).isEqualTo(200);
  }
}
