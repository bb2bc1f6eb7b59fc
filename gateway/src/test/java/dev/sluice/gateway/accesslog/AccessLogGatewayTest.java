package dev.sluice.gateway.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.gateway.Gateway;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.ManualClock;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The access log of a real gateway in front of a real upstream: the exact line shape agreed in
 * ACCESS_LOG.md, hashed secrets, outcomes, rotation by reopen, and a stalled writer that drops
 * and counts instead of blocking.
 */
class AccessLogGatewayTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String RAW_KEY = "sk_live_51HcQ2vGm7Xp9TqRz";
  private static final List<String> KEYS = List.of("time", "via", "method", "path", "client_ip", "identities",
      "policies", "outcome", "policy", "status", "upstream_ms");

  @TempDir Path dir;

  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  private Gateway start(int upstream) throws Exception {
    String yaml = """
        version: 1
        gateway:
          listen: 127.0.0.1:0
          upstream: http://127.0.0.1:%d
          admin: 127.0.0.1:0
        clients:
          api_key: { header: X-API-Key }
        audit_log: audit.jsonl
        access_log: access.jsonl
        block:
          ips: [10.9.9.9/32]
        policies:
          - name: login
            match: { methods: [POST], paths: ["/auth/login"] }
            by: ip
            limits: ["1/minute"]
          - name: api
            match: { paths: ["/api/**"] }
            by: [api_key, ip]
            limits: ["1/minute"]
          - name: shadowed
            match: { paths: ["/shadow/**", "/status/**"] }
            by: ip
            mode: shadow
            limits: ["1/minute"]
        """.formatted(upstream);
    Path file = dir.resolve("sluice.yaml");
    Files.writeString(file, yaml);
    SluiceConfig config = ConfigLoader.load(file);
    return Gateway.start(config, new MemoryStore(new ManualClock(), 10_000), new ManualClock());
  }

  private int send(Gateway gateway, String method, String target, Map<String, String> headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.address().getPort() + target))
        .method(method, HttpRequest.BodyPublishers.noBody());
    headers.forEach(b::header);
    return http.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private List<JsonNode> lines(Path file) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      out.add(JSON.readTree(line));
    }
    return out;
  }

  private static List<String> keys(JsonNode node) {
    List<String> keys = new ArrayList<>();
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      keys.add(it.next());
    }
    return keys;
  }

  @Test
  void everyDecidedRequest_oneLineInTheAgreedShape_secretsHashedLikeTheAuditLog() throws Exception {
    Path access = dir.resolve("access.jsonl");
    Instant before = Instant.now().minusSeconds(1);
    try (JdkUpstream upstream = new JdkUpstream()) {
      Gateway gateway = start(upstream.port());
      try {
        assertThat(send(gateway, "POST", "/auth/login?x=1", Map.of())).isEqualTo(200);
        assertThat(send(gateway, "POST", "/auth/login", Map.of())).isEqualTo(429);
        assertThat(send(gateway, "GET", "/api/items?api_key=" + RAW_KEY, Map.of("X-API-Key", RAW_KEY))).isEqualTo(200);
        assertThat(send(gateway, "GET", "/api/items", Map.of("X-API-Key", RAW_KEY))).isEqualTo(429);
        assertThat(send(gateway, "GET", "/status/503", Map.of())).isEqualTo(503);
        assertThat(send(gateway, "GET", "/shadow/x", Map.of())).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> gateway.accessLog().written() == 6);
      } finally {
        gateway.close();
      }
    }
    String text = Files.readString(access, StandardCharsets.UTF_8);
    assertThat(text).doesNotContain(RAW_KEY).doesNotContain("51HcQ2").endsWith("\n");
    List<JsonNode> lines = lines(access);
    assertThat(lines).hasSize(6);
    for (JsonNode line : lines) {
      assertThat(keys(line)).as(line.toString()).isEqualTo(KEYS);
      assertThat(line.get("via").asText()).isEqualTo("gateway");
      assertThat(line.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
      assertThat(Instant.parse(line.get("time").asText())).isAfter(before).isBefore(Instant.now().plusSeconds(1));
      assertThat(line.get("client_ip").asText()).isEqualTo("127.0.0.1");
    }
    JsonNode ok = lines.get(0);
    assertThat(ok.get("method").asText()).isEqualTo("POST");
    assertThat(ok.get("path").asText()).isEqualTo("/auth/login");
    assertThat(ok.get("identities").toString()).isEqualTo("{\"ip\":\"127.0.0.1\"}");
    assertThat(ok.get("policies").toString()).isEqualTo("[\"login\"]");
    assertThat(ok.get("outcome").asText()).isEqualTo("allowed");
    assertThat(ok.get("policy").isNull()).isTrue();
    assertThat(ok.get("status").asInt()).isEqualTo(200);
    assertThat(ok.get("upstream_ms").isNumber()).isTrue();
    assertThat(ok.get("upstream_ms").asDouble()).isGreaterThan(0).isLessThan(10_000);
    assertThat(ok.get("upstream_ms").toString()).matches("\\d+\\.\\d{1,3}");

    // The exact text of a 429 line, time aside.
    String limited = Files.readAllLines(access, StandardCharsets.UTF_8).get(1);
    assertThat(limited.replaceFirst("\"time\":\"[^\"]+\"", "\"time\":\"T\"")).isEqualTo(
        "{\"time\":\"T\",\"via\":\"gateway\",\"method\":\"POST\",\"path\":\"/auth/login\",\"client_ip\":\"127.0.0.1\","
            + "\"identities\":{\"ip\":\"127.0.0.1\"},\"policies\":[\"login\"],\"outcome\":\"limited\","
            + "\"policy\":\"login\",\"status\":429,\"upstream_ms\":null}");

    JsonNode keyed = lines.get(3);
    assertThat(keyed.get("outcome").asText()).isEqualTo("limited");
    assertThat(keyed.get("policy").asText()).isEqualTo("api");
    String hashed = keyed.get("identities").get("api_key").asText();
    assertThat(hashed).isNotEmpty().isNotEqualTo(RAW_KEY);
    // The same value the audit log writes for that 429.
    JsonNode audit = lines(dir.resolve("audit.jsonl")).stream()
        .filter(l -> l.get("policy").asText().equals("api")).findFirst().orElseThrow();
    assertThat(audit.get("identity").asText()).isEqualTo(hashed);
    assertThat(lines.get(2).get("path").asText()).isEqualTo("/api/items");

    JsonNode upstream5xx = lines.get(4);
    assertThat(upstream5xx.get("status").asInt()).isEqualTo(503);
    assertThat(upstream5xx.get("outcome").asText()).isEqualTo("allowed");
    assertThat(upstream5xx.get("policies").toString()).isEqualTo("[\"shadowed\"]");

    JsonNode shadow = lines.get(5);
    assertThat(shadow.get("outcome").asText()).isEqualTo("shadow_limited");
    assertThat(shadow.get("policy").asText()).isEqualTo("shadowed");
    assertThat(shadow.get("status").asInt()).isEqualTo(200);
  }

  @Test
  void reopen_afterTheFileWasRenamed_nextLinesGoToANewFile() throws Exception {
    Path access = dir.resolve("access.jsonl");
    Path rotated = dir.resolve("access.jsonl.1");
    try (JdkUpstream upstream = new JdkUpstream()) {
      Gateway gateway = start(upstream.port());
      try {
        assertThat(send(gateway, "GET", "/other", Map.of())).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> gateway.accessLog().written() == 1);
        Files.move(access, rotated);
        assertThat(gateway.reopenAccessLog()).isTrue();
        assertThat(send(gateway, "GET", "/other", Map.of())).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(access) && lines(access).size() == 1);
      } finally {
        gateway.close();
      }
    }
    assertThat(lines(rotated)).hasSize(1);
    assertThat(lines(access)).hasSize(1);
  }

  @Test
  void stalledWriter_dropsAndCounts_neverBlocksTheCaller() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Writer stuck = new Writer() {
      @Override
      public void write(char[] cbuf, int off, int len) {
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    AccessLog log = AccessLog.to(stuck, InstantSource.system(), 4);
    AccessLog.Line line = new AccessLog.Line(Instant.now(), "gateway", "GET", "/", "127.0.0.1", Map.of(), List.of(),
        "allowed", null, 200, -1);
    long start = System.nanoTime();
    for (int i = 0; i < 10_000; i++) {
      log.log(line);
    }
    long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
    assertThat(elapsedMillis).as("10,000 offers to a stalled writer").isLessThan(2_000);
    // At most the queue (4) plus the one line stuck in the writer got through.
    assertThat(log.dropped()).isBetween(10_000L - 5, 10_000L);
    release.countDown();
    log.close();
    assertThat(log.dropped() + log.written()).isEqualTo(10_000);
  }
}
