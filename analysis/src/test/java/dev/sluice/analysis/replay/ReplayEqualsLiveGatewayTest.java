package dev.sluice.analysis.replay;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.sluice.analysis.logs.CombinedLogParser;
import dev.sluice.analysis.logs.JsonLogParser;
import dev.sluice.analysis.logs.LineParser;
import dev.sluice.analysis.logs.SluiceLogParser;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.gateway.Gateway;
import dev.sluice.match.EncodedSlashes;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.ManualClock;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replay decides exactly what a live gateway decided: a real gateway (real sockets, the engine on
 * an injected manual clock) is fed a seeded schedule of requests at fake millisecond times; the
 * same requests are written as a log in each format, replayed, and every line's outcome (and the
 * policy a 429 names) must equal the gateway's answer. GCRA with several limits, a sliding window,
 * cost, API-key identities with an ip fallback, a shadow policy, overlapping policies, defaults.
 */
class ReplayEqualsLiveGatewayTest {
  private static final String POLICY = """
      version: 1
      gateway:
        listen: 127.0.0.1:0
        upstream: http://127.0.0.1:%d
        admin: 127.0.0.1:0
      access_log: access-live.jsonl
      clients:
        trusted_proxies: [127.0.0.1/32]
        api_key: { header: X-API-Key }
      defaults:
        by: ip
        limits: ["30/minute"]
      policies:
        - name: login
          match: { methods: [POST], paths: ["/auth/login"] }
          by: ip
          limits: ["4/minute", "9/hour"]
        - name: search
          match: { paths: ["/api/search", "/api/search/**"] }
          by: [api_key, ip]
          algorithm: sliding_window
          limits: ["3/10 seconds"]
        - name: api
          match: { paths: ["/api/**"] }
          by: [api_key, ip]
          limits: ["20/minute burst 6"]
        - name: reports
          match: { paths: ["/api/reports/**"] }
          by: api_key
          cost: 5
          limits: ["10/minute"]
        - name: export
          match: { paths: ["/api/export"] }
          by: ip
          mode: shadow
          limits: ["2/minute"]
      """;
  private static final long BASE_MILLIS = Instant.parse("2026-12-05T10:00:00Z").toEpochMilli();
  private static final String[] IPS = {"203.0.113.1", "203.0.113.2", "198.51.100.7", "2001:db8::5"};
  private static final String[] KEYS = {null, null, "key-alpha", "key-beta"};
  private static final String[][] ROUTES = {
    {"POST", "/auth/login"}, {"GET", "/api/search"}, {"GET", "/api/search/x"}, {"GET", "/api/items/1"},
    {"GET", "/api/reports/daily"}, {"GET", "/api/export"}, {"GET", "/other"}
  };

  @TempDir Path dir;
  private HttpServer upstream;
  private Gateway gateway;
  private ManualClock clock;
  private SluiceConfig config;

  /** One request as sent, with the gateway's answer. */
  private record Sent(long millis, String method, String path, String ip, String key, int status, String policy) {}

  @BeforeEach
  void start() throws Exception {
    upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    upstream.createContext("/", exchange -> {
      exchange.getRequestBody().readAllBytes();
      exchange.sendResponseHeaders(200, -1);
      exchange.close();
    });
    upstream.start();
    Path file = dir.resolve("sluice.yaml");
    Files.writeString(file, POLICY.formatted(upstream.getAddress().getPort()));
    config = ConfigLoader.load(file);
    clock = new ManualClock();
    gateway = Gateway.start(config, new MemoryStore(clock, 10_000), clock);
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    if (upstream != null) {
      upstream.stop(0);
    }
  }

  @Test
  void replay_ofEveryFormat_decidesEveryRequestAsTheLiveGatewayDid() throws Exception {
    List<Sent> sent = drive(new Random(42), 500);
    assertThat(sent).extracting(Sent::status).contains(200, 429);
    assertThat(sent.stream().filter(s -> s.status() == 429).map(Sent::policy).distinct())
        .contains("login", "search", "api", "reports");

    Path sluiceLog = write("access.jsonl", sent, ReplayEqualsLiveGatewayTest::sluiceLine);
    assertSame(sent, sluiceLog, new SluiceLogParser());
    // The gateway's own access log (the real writer): its lines, identities and all, replayed with
    // the request's fake time in place of the wall-clock time the writer stamps.
    gateway.close();
    gateway = null;
    List<String> written = Files.readAllLines(dir.resolve("access-live.jsonl"));
    assertThat(written).hasSize(sent.size());
    List<String> retimed = new ArrayList<>();
    for (int i = 0; i < written.size(); i++) {
      retimed.add(written.get(i).replaceFirst("\"time\":\"[^\"]*\"",
          "\"time\":\"" + RFC3339.format(Instant.ofEpochMilli(sent.get(i).millis())) + "\""));
    }
    Path liveLog = dir.resolve("access-live-retimed.jsonl");
    Files.write(liveLog, retimed);
    assertSame(sent, liveLog, new SluiceLogParser());
    Path jsonLog = write("access.json", sent, ReplayEqualsLiveGatewayTest::jsonLine);
    assertSame(sent, jsonLog, new JsonLogParser(Map.of("time", "ts", "path", "uri", "client_ip", "remote",
        "api_key", "key"), EncodedSlashes.DECODE));
  }

  @Test
  void replay_ofCombinedLog_withoutApiKeys_decidesAsTheLiveGatewayDid() throws Exception {
    List<Sent> sent = drive(new Random(7), 300, true);
    assertThat(sent).extracting(Sent::status).contains(200, 429);
    Path combined = write("access.log", sent, ReplayEqualsLiveGatewayTest::combinedLine);
    assertSame(sent, combined, new CombinedLogParser(EncodedSlashes.DECODE));
  }

  private List<Sent> drive(Random random, int count) throws Exception {
    return drive(random, count, false);
  }

  /** @param noKeys no API keys, and whole-second steps (for the combined format's whole seconds) */
  private List<Sent> drive(Random random, int count, boolean noKeys) throws Exception {
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();
    List<Sent> sent = new ArrayList<>();
    long millis = BASE_MILLIS;
    for (int i = 0; i < count; i++) {
      long gap = noKeys ? 1000L * random.nextInt(3)
          : random.nextInt(100) < 85 ? random.nextInt(60) : random.nextInt(4_000);
      millis += gap;
      clock.advance(Duration.ofMillis(gap));
      String ip = IPS[random.nextInt(IPS.length)];
      String key = noKeys ? null : KEYS[random.nextInt(KEYS.length)];
      String[] route = ROUTES[random.nextInt(ROUTES.length)];
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(
              "http://127.0.0.1:" + gateway.address().getPort() + route[1]))
          .timeout(Duration.ofSeconds(10))
          .header("X-Forwarded-For", ip)
          .method(route[0], HttpRequest.BodyPublishers.noBody());
      if (key != null) {
        request.header("X-API-Key", key);
      }
      HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
      String policy = null;
      if (response.statusCode() == 429) {
        Matcher m = Pattern.compile("\"policy\"\\s*:\\s*\"([^\"]+)\"").matcher(response.body());
        assertThat(m.find()).as("429 body names the policy: %s", response.body()).isTrue();
        policy = m.group(1);
      }
      sent.add(new Sent(millis, route[0], route[1], ip, key, response.statusCode(), policy));
    }
    return sent;
  }

  private void assertSame(List<Sent> sent, Path log, LineParser parser) throws IOException {
    List<String> outcomes = new ArrayList<>();
    List<String> policies = new ArrayList<>();
    Replay replay = new Replay(config, ClientKeys.of(config), (line, decision, outcome) -> {
      outcomes.add(outcome);
      policies.add(decision.denying().map(pd -> pd.policy().name()).orElse(null));
    });
    ReplayReport report = replay.run(log, parser, "test");
    assertThat(report.malformed()).isZero();
    assertThat(outcomes).hasSize(sent.size());
    for (int i = 0; i < sent.size(); i++) {
      Sent s = sent.get(i);
      String live = s.status() == 429 ? "limited" : "allowed-or-shadow";
      String replayed = outcomes.get(i).equals("limited") ? "limited" : "allowed-or-shadow";
      assertThat(replayed).as("line %d (%s %s from %s key %s) in %s", i + 1, s.method(), s.path(), s.ip(), s.key(), log)
          .isEqualTo(live);
      assertThat(policies.get(i)).as("policy named on line %d", i + 1).isEqualTo(s.policy());
    }
    long live429 = sent.stream().filter(s -> s.status() == 429).count();
    assertThat(report.outcomes().getOrDefault("limited", 0L)).isEqualTo(live429);
    long limitedByPolicies = report.policies().stream().filter(p -> !p.mode().equals("shadow"))
        .mapToLong(ReplayReport.PolicyReport::limited).sum();
    assertThat(limitedByPolicies).isGreaterThanOrEqualTo(live429);
    assertThat(report.policies().stream().filter(p -> p.name().equals("export")).findFirst().orElseThrow()
        .shadowLimited()).isPositive();
  }

  @FunctionalInterface
  private interface Format {
    String line(Sent s);
  }

  private Path write(String name, List<Sent> sent, Format format) throws IOException {
    List<String> lines = new ArrayList<>();
    for (Sent s : sent) {
      lines.add(format.line(s));
    }
    Path file = dir.resolve(name);
    Files.write(file, lines);
    return file;
  }

  private static final DateTimeFormatter RFC3339 =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter COMMON =
      DateTimeFormatter.ofPattern("dd/MMM/uuuu:HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);

  private static String sluiceLine(Sent s) {
    String identities = "\"ip\":\"" + s.ip() + "\"" + (s.key() == null ? ""
        : ",\"api_key\":\"" + dev.sluice.identity.IdentityResolver.builder().build().secretValue(s.key()) + "\"");
    // keys in another order than the writer's and an unknown key: readers must not care
    return "{\"via\":\"gateway\",\"future_field\":[1,{\"a\":2}],\"time\":\"" + RFC3339.format(Instant.ofEpochMilli(s.millis()))
        + "\",\"method\":\"" + s.method() + "\",\"path\":\"" + s.path() + "\",\"client_ip\":\"" + s.ip()
        + "\",\"identities\":{" + identities + "},\"policies\":[],\"outcome\":\""
        + (s.status() == 429 ? "limited" : "allowed") + "\",\"policy\":null,\"status\":" + s.status()
        + ",\"upstream_ms\":null}";
  }

  private static String jsonLine(Sent s) {
    return "{\"ts\":" + s.millis() + ",\"method\":\"" + s.method() + "\",\"uri\":\"" + s.path() + "?q=1\",\"remote\":\""
        + s.ip() + "\"" + (s.key() == null ? "" : ",\"key\":\"" + s.key() + "\"") + ",\"status\":" + s.status() + "}";
  }

  private static String combinedLine(Sent s) {
    // The common log format has whole seconds: the combined test's schedule moves in whole seconds.
    return s.ip() + " - - [" + COMMON.format(Instant.ofEpochMilli(s.millis())) + "] \"" + s.method() + " " + s.path()
        + " HTTP/1.1\" " + s.status() + " 0 \"-\" \"test\"";
  }
}
