package dev.sluice.gateway.upstreams;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Round robin, skipping, cool-down and probing, on an injected clock. */
class UpstreamSetTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  private UpstreamSet set(int n) {
    Map<String, InetSocketAddress> map = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      map.put("http://u" + i, InetSocketAddress.createUnresolved("u" + i, 80));
    }
    return new UpstreamSet(map, registry, now::get);
  }

  private static List<String> firstChoices(UpstreamSet set, int requests) {
    List<String> chosen = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      chosen.add(set.attempts().next().text());
    }
    return chosen;
  }

  @Test
  void healthyUpstreams_areTakenInTurn() {
    assertThat(firstChoices(set(3), 6))
        .containsExactly("http://u0", "http://u1", "http://u2", "http://u0", "http://u1", "http://u2");
  }

  @Test
  void refusedUpstream_isSkippedForTheCoolDown_thenProbedAgain() {
    UpstreamSet set = set(3);
    Upstream u1 = set.all().get(1);
    u1.connectFailed(true);
    assertThat(u1.isDown()).isTrue();
    assertThat(firstChoices(set, 12)).doesNotContain("http://u1");
    assertThat(registry.scrape()).contains("sluice_upstream_up{upstream=\"http://u1\"} 0.0");

    now.addAndGet(UpstreamSet.COOL_DOWN.toNanos());
    assertThat(u1.isDown()).as("cool-down over: probed again").isFalse();
    assertThat(firstChoices(set, 3)).contains("http://u1");
    u1.connectFailed(false);
    assertThat(u1.isDown()).as("a failed probe skips it again at once").isTrue();

    now.addAndGet(UpstreamSet.COOL_DOWN.toNanos());
    u1.connected();
    assertThat(u1.isDown()).isFalse();
    u1.connectFailed(false);
    assertThat(u1.isDown()).as("after a success, one timeout is not enough").isFalse();
  }

  @Test
  void connectErrors_markDownOnlyAfterThreeInARow() {
    Upstream u = set(2).all().get(0);
    u.connectFailed(false);
    u.connectFailed(false);
    assertThat(u.isDown()).isFalse();
    u.connectFailed(false);
    assertThat(u.isDown()).isTrue();
  }

  @Test
  void oneRequest_triesEachHealthyUpstreamOnce_thenOneDownUpstream_thenGivesUp() {
    UpstreamSet set = set(3);
    set.all().get(2).connectFailed(true);
    UpstreamSet.Attempts attempts = set.attempts();
    List<String> tried = new ArrayList<>();
    for (Upstream u = attempts.next(); u != null; u = attempts.next()) {
      tried.add(u.text());
    }
    assertThat(tried).containsExactly("http://u0", "http://u1", "http://u2");

    set.all().forEach(u -> u.connectFailed(true));
    UpstreamSet.Attempts allDown = set.attempts();
    assertThat(allDown.next()).as("all down: one probe").isNotNull();
    assertThat(allDown.next()).isNull();
  }
}
