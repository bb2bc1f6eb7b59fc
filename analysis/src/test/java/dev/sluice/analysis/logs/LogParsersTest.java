package dev.sluice.analysis.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.match.EncodedSlashes;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogParsersTest {
  @TempDir Path dir;

  private static long nanos(String rfc3339) {
    Instant t = Instant.parse(rfc3339);
    return t.getEpochSecond() * 1_000_000_000L + t.getNano();
  }

  @Test
  void sluiceLine_asTheWriterWritesIt_isRead() throws Exception {
    LogLine line = new SluiceLogParser().parse(1, "{\"time\":\"2026-12-05T17:20:00.123Z\",\"via\":\"gateway\","
        + "\"method\":\"POST\",\"path\":\"/auth/login\",\"client_ip\":\"10.0.0.1\",\"identities\":{\"ip\":\"10.0.0.1\","
        + "\"api_key\":\"3fa9c2d1e0b4aa11\"},\"policies\":[\"login\",\"api\"],\"outcome\":\"limited\",\"policy\":\"login\","
        + "\"status\":429,\"upstream_ms\":null}");
    assertThat(line.epochNanos()).isEqualTo(nanos("2026-12-05T17:20:00.123Z"));
    assertThat(line.method()).isEqualTo("POST");
    assertThat(line.path()).isEqualTo("/auth/login");
    assertThat(line.clientIp()).isEqualTo("10.0.0.1");
    assertThat(line.identities()).containsExactly(Map.entry("ip", "10.0.0.1"), Map.entry("api_key", "3fa9c2d1e0b4aa11"));
    assertThat(line.outcome()).isEqualTo("limited");
    assertThat(line.status()).isEqualTo(429);
    assertThat(line.upstreamNanos()).isEqualTo(-1);
  }

  @Test
  void sluiceLine_inAnotherKeyOrderWithUnknownKeys_isRead() throws Exception {
    LogLine line = new SluiceLogParser().parse(1, "{\"upstream_ms\":12.5,\"new\":{\"x\":[1,2]},\"status\":200,"
        + "\"identities\":{},\"client_ip\":\"2001:db8::1\",\"path\":\"/a\",\"method\":\"GET\","
        + "\"time\":\"2026-12-05T17:20:00+01:00\"}");
    assertThat(line.epochNanos()).isEqualTo(nanos("2026-12-05T16:20:00Z"));
    assertThat(line.upstreamNanos()).isEqualTo(12_500_000L);
    assertThat(line.identities()).isEmpty();
  }

  @Test
  void sluiceLine_withoutIdentities_isMalformedAndSaysWhat() {
    assertThatThrownBy(() -> new SluiceLogParser().parse(3,
        "{\"time\":\"2026-12-05T17:20:00.123Z\",\"method\":\"GET\",\"path\":\"/a\",\"client_ip\":\"10.0.0.1\"}"))
        .isInstanceOf(MalformedLineException.class)
        .hasMessage("\"identities\" is missing; a Sluice access log line has time, method, path, client_ip and identities");
  }

  @Test
  void combinedLine_isRead_withQueryAndRemoteUser() throws Exception {
    LogLine line = new CombinedLogParser(EncodedSlashes.DECODE).parse(1,
        "203.0.113.9 - alice [10/Oct/2026:13:55:36 -0700] \"GET /api/search/../items?api_key=k1 HTTP/1.1\" 200 2326"
            + " \"http://example.com/\" \"Mozilla/5.0 (\\\"quoted\\\")\"");
    assertThat(line.epochNanos()).isEqualTo(nanos("2026-10-10T20:55:36Z"));
    assertThat(line.method()).isEqualTo("GET");
    assertThat(line.path()).isEqualTo("/api/items");
    assertThat(line.rawQuery()).isEqualTo("api_key=k1");
    assertThat(line.clientIp()).isEqualTo("203.0.113.9");
    assertThat(line.identities()).containsExactly(Map.entry("user", "alice"));
    assertThat(line.status()).isEqualTo(200);
  }

  @Test
  void combinedLine_withABadTime_isMalformed() {
    assertThatThrownBy(() -> new CombinedLogParser(EncodedSlashes.DECODE).parse(1,
        "1.2.3.4 - - [10/Foo/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 1"))
        .isInstanceOf(MalformedLineException.class)
        .hasMessageContaining("is not [dd/Mon/yyyy:HH:mm:ss +hhmm]");
  }

  @Test
  void jsonLine_withMappedFields_isRead_epochSecondsMillisAndText() throws Exception {
    JsonLogParser parser = new JsonLogParser(Map.of("time", "ts", "path", "uri", "client_ip", "remote_addr",
        "api_key", "key", "user", "uid", "status", "code"), EncodedSlashes.DECODE);
    LogLine a = parser.parse(1, "{\"ts\":1796577600.25,\"method\":\"post\",\"uri\":\"/x?y=1\",\"remote_addr\":\"10.1.1.1\","
        + "\"key\":\"secret\",\"uid\":\"42\",\"code\":\"201\",\"other\":{}}");
    assertThat(a.epochNanos()).isEqualTo(1_796_577_600_250_000_000L);
    assertThat(a.method()).isEqualTo("POST");
    assertThat(a.path()).isEqualTo("/x");
    assertThat(a.rawQuery()).isEqualTo("y=1");
    assertThat(a.apiKey()).isEqualTo("secret");
    assertThat(a.identities()).containsExactly(Map.entry("user", "42"));
    assertThat(a.status()).isEqualTo(201);
    LogLine b = parser.parse(2, "{\"ts\":1796577600250,\"uri\":\"/\",\"remote_addr\":\"10.1.1.1\"}");
    assertThat(b.epochNanos()).isEqualTo(1_796_577_600_250_000_000L);
    assertThat(b.method()).isEqualTo("GET");
    LogLine c = parser.parse(3, "{\"ts\":\"2026-12-05T17:20:00.5Z\",\"uri\":\"/\",\"remote_addr\":\"10.1.1.1\"}");
    assertThat(c.epochNanos()).isEqualTo(nanos("2026-12-05T17:20:00.5Z"));
  }

  @Test
  void jsonParser_unknownField_isRejectedNamingTheChoices() {
    assertThatThrownBy(() -> new JsonLogParser(Map.of("uri", "u"), EncodedSlashes.DECODE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--field uri=u: unknown field \"uri\"; expected one of time, method, path, client_ip, status, api_key, user");
  }

  @Test
  void reader_countsMalformedLinesWithNumbers_andKeepsGoing_gzipToo() throws Exception {
    String good = "{\"time\":\"2026-12-05T17:20:00.123Z\",\"method\":\"GET\",\"path\":\"/a\",\"client_ip\":\"10.0.0.1\",\"identities\":{}}";
    String text = String.join("\n", good, "not json at all", good, "", "{\"time\":\"yesterday\",\"method\":\"GET\","
        + "\"path\":\"/a\",\"client_ip\":\"10.0.0.1\",\"identities\":{}}", "{\"time\":\"2026-12-05T17:20:00.123Z\"", good) + "\n";
    Path gz = dir.resolve("access.jsonl.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
    LogReader reader = new LogReader(new SluiceLogParser());
    List<Long> read = new ArrayList<>();
    reader.read(gz, line -> read.add(line.lineNumber()));
    assertThat(read).containsExactly(1L, 3L, 7L);
    assertThat(reader.lines()).isEqualTo(7);
    assertThat(reader.requests()).isEqualTo(3);
    assertThat(reader.malformed()).isEqualTo(3);
    assertThat(reader.problems()).hasSize(3);
    assertThat(reader.problems().get(0)).startsWith("access.jsonl.gz:2: not JSON (");
    assertThat(reader.problems().get(1)).isEqualTo(
        "access.jsonl.gz:5: time \"yesterday\" is not an RFC 3339 timestamp (e.g. 2026-12-05T17:20:00.123Z)");
    assertThat(reader.problems().get(2)).startsWith("access.jsonl.gz:6: not JSON (");
  }
}
