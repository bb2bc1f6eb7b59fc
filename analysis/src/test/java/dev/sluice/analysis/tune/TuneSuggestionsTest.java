package dev.sluice.analysis.tune;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.analysis.logs.SluiceLogParser;
import dev.sluice.analysis.plot.DemandPlot;
import dev.sluice.analysis.replay.ClientKeys;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import java.awt.image.BufferedImage;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tune on generated logs whose demand distribution is known: identity k (1…200) sends k requests,
 * at one instant on {@code /api/**} (GCRA) and on {@code /search} (sliding window), and spread
 * evenly over one minute on {@code /spread/**} (GCRA). Peaks are then exactly 1…200; the 0.99
 * nearest-rank quantile is the 198th, 198; × 1.5 = 297. At 297/minute an instant burst of k needs a
 * burst of k (quantile 198 → 297, no smaller burst suggested); a spread one needs 1 (→ burst 2).
 * An exempt partner sending 1,000 at once is named.
 */
class TuneSuggestionsTest {
  private static final String POLICY = """
      version: 1
      gateway:
        listen: 127.0.0.1:0
        upstream: http://127.0.0.1:9
        admin: 127.0.0.1:0
      exempt:
        ips: [10.9.9.9/32]
      policies:
        - name: api
          match: { paths: ["/api/**"] }
          by: ip
          limits: ["100/minute"]
        - name: search
          match: { paths: ["/search"] }
          by: ip
          algorithm: sliding_window
          limits: ["50/minute"]
        - name: spread
          match: { paths: ["/spread/**"] }
          by: ip
          limits: ["10/minute", "500/hour"]
      """;
  private static final DateTimeFormatter RFC3339 =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
  private static final long T0 = Instant.parse("2026-12-01T00:00:00Z").toEpochMilli();

  @TempDir static Path dir;
  static SluiceConfig config;
  static Path log;
  static TuneReport report;

  private record Event(long millis, String ip, String path, boolean exempt) {}

  @BeforeAll
  static void tune() throws Exception {
    Path file = dir.resolve("sluice.yaml");
    Files.writeString(file, POLICY);
    config = ConfigLoader.load(file);
    List<Event> events = new ArrayList<>();
    for (int k = 1; k <= 200; k++) {
      String ip = "10.0." + (k / 100) + "." + (k % 100);
      for (int i = 0; i < k; i++) {
        events.add(new Event(T0 + k * 1_000L, ip, "/api/x", false));
        events.add(new Event(T0 + 500_000L + k * 1_000L, ip, "/search", false));
        events.add(new Event(T0 + 1_000_000L + i * 60_000L / k, ip, "/spread/y", false));
      }
    }
    for (int i = 0; i < 1000; i++) {
      events.add(new Event(T0 + 300_000L, "10.9.9.9", "/api/partner", true));
    }
    events.sort(Comparator.comparingLong(Event::millis));
    List<String> lines = new ArrayList<>();
    for (Event e : events) {
      lines.add("{\"time\":\"" + RFC3339.format(Instant.ofEpochMilli(e.millis())) + "\",\"method\":\"GET\",\"path\":\""
          + e.path() + "\",\"client_ip\":\"" + e.ip() + "\",\"identities\":{" + (e.exempt() ? "" : "\"ip\":\"" + e.ip() + "\"")
          + "},\"outcome\":\"" + (e.exempt() ? "exempt" : "allowed") + "\",\"status\":200}");
    }
    log = dir.resolve("access.jsonl");
    Files.write(log, lines);
    report = new Tune(config, ClientKeys.of(config), 0.99, 1.5).run(log, SluiceLogParser::new);
  }

  private static TuneReport.LimitReport limit(String policy, int index) {
    return report.limits().stream().filter(l -> l.policy().equals(policy) && l.index() == index).findFirst().orElseThrow();
  }

  @Test
  void instantBursts_gcra_suggestQuantileTimesHeadroom_withoutASmallerBurst() {
    TuneReport.LimitReport api = limit("api", 0);
    assertThat(api.identities()).isEqualTo(200);
    assertThat(api.p50()).isEqualTo(100);
    assertThat(api.p90()).isEqualTo(180);
    assertThat(api.p99()).isEqualTo(198);
    assertThat(api.p999()).isEqualTo(200);
    assertThat(api.max()).isEqualTo(200);
    assertThat(api.overCurrent()).isEqualTo(100);
    assertThat(api.suggestedQuantity()).isEqualTo(297);
    assertThat(api.suggestedBurst()).isEqualTo(297);
    assertThat(api.suggested()).isEqualTo("297/minute");
    assertThat(api.overSuggested()).isZero();
  }

  @Test
  void slidingWindow_suggestsQuantileTimesHeadroom() {
    TuneReport.LimitReport search = limit("search", 0);
    assertThat(search.algorithm()).isEqualTo("sliding_window");
    assertThat(search.p99()).isEqualTo(198);
    assertThat(search.suggested()).isEqualTo("297/minute");
    assertThat(search.partners()).isEmpty();
  }

  @Test
  void spreadDemand_gcra_suggestsASmallBurst_andEachLimitHasItsOwnWindow() {
    TuneReport.LimitReport minute = limit("spread", 0);
    assertThat(minute.p99()).isEqualTo(198);
    assertThat(minute.suggested()).isEqualTo("297/minute burst 2");
    TuneReport.LimitReport hour = limit("spread", 1);
    assertThat(hour.p99()).isEqualTo(198);
    // At 297/hour, k requests 60/k s apart leave k − (k−1)·4.95/k tokens: 193.075 for k = 198,
    // so the burst is ⌈1.5 × 194⌉ = 291.
    assertThat(hour.suggested()).isEqualTo("297/hour burst 291");
  }

  @Test
  void exemptPartnerAboveTheSuggestion_isNamed_andNotPartOfTheDistribution() {
    TuneReport.LimitReport api = limit("api", 0);
    assertThat(api.partners()).extracting(TuneReport.Partner::identity, TuneReport.Partner::source,
        TuneReport.Partner::peak).containsExactly(org.assertj.core.groups.Tuple.tuple("ip:10.9.9.9", "exempt.ips", 1000L));
    String text = TunePrinter.text(report);
    assertThat(text).contains("partner ip:10.9.9.9 (exempt.ips) would be limited: peak 1000");
    assertThat(TunePrinter.yaml(report)).contains("""
        policies:
          - name: api
            limits: ["297/minute"]  # was ["100/minute"]; a known partner would be limited, see above
          - name: search
            limits: ["297/minute"]  # was ["50/minute"]
          - name: spread
            limits: ["297/minute burst 2", "297/hour burst 291"]  # was ["10/minute", "500/hour"]
        """);
  }

  @Test
  void plot_isAPngOfOneChartPerLimit() throws Exception {
    Path png = dir.resolve("demand.png");
    DemandPlot.write(report, png);
    try (InputStream in = Files.newInputStream(png)) {
      byte[] magic = in.readNBytes(8);
      assertThat(magic).containsExactly(0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a);
    }
    BufferedImage image = ImageIO.read(png.toFile());
    assertThat(image.getWidth()).isEqualTo(DemandPlot.WIDTH);
    assertThat(image.getHeight()).isEqualTo(DemandPlot.CHART_HEIGHT * 4);
  }
}
