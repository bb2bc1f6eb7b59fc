package dev.sluice.gateway.audit;

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
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.engine.Decision;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.gateway.response.Decisions;
import dev.sluice.identity.ClientAddress;
import dev.sluice.identity.Identity;
import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.policy.Mode;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final InstantSource FIXED = InstantSource.fixed(Instant.parse("2026-11-23T13:00:00.123Z"));

  private static List<JsonNode> lines(String text) throws IOException {
    List<JsonNode> result = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (!line.isEmpty()) {
        result.add(JSON.readTree(line));
      }
    }
    return result;
  }

  @Test
  void onDecision_limited_writesOneLineWithEveryField() throws IOException {
    StringWriter out = new StringWriter();
    AuditLog log = new AuditLog(out, false, FIXED, 16);

    log.onDecision(request("POST", "/auth/login", "next=/home", Map.of()),
        decision(pd(login(), denied(1, 90 * SECOND + 1, status(3, 0), status(0, 90 * SECOND + 1)))), 1000);
    log.close();

    assertThat(out.toString()).endsWith("\n");
    List<JsonNode> lines = lines(out.toString());
    assertThat(lines).hasSize(1);
    JsonNode line = lines.get(0);
    assertThat(line.toString()).isEqualTo("{\"time\":\"2026-11-23T13:00:00.123Z\",\"policy\":\"login\","
        + "\"limit\":\"20/hour\",\"outcome\":\"limited\",\"identity_kind\":\"ip\",\"identity\":\"203.0.113.7\","
        + "\"client_ip\":\"203.0.113.7\",\"method\":\"POST\",\"path\":\"/auth/login\",\"retry_after\":91}");
  }

  @Test
  void onDecision_allowedOnly_writesNothing() {
    StringWriter out = new StringWriter();
    AuditLog log = new AuditLog(out, false, FIXED, 16);

    log.onDecision(request("GET", "/api/search"), decision(pd(search(Mode.ENFORCE), allowed(status(5, SECOND)))), 1);
    log.onDecision(request("GET", "/"), Decision.exempt(Decisions.client()), 1);
    log.close();

    assertThat(out.toString()).isEmpty();
    assertThat(log.written()).isZero();
  }

  @Test
  void onDecision_shadowLimitedBesideAllowed_writesOnlyTheShadowLine() throws IOException {
    StringWriter out = new StringWriter();
    AuditLog log = new AuditLog(out, false, FIXED, 16);

    log.onDecision(request("GET", "/api/search"), decision(
        pd(login(), allowed(status(3, SECOND), status(10, SECOND))),
        pd(search(Mode.SHADOW), denied(0, 5 * SECOND, status(0, 5 * SECOND)))), 1);
    log.close();

    List<JsonNode> lines = lines(out.toString());
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0).get("policy").asText()).isEqualTo("search");
    assertThat(lines.get(0).get("outcome").asText()).isEqualTo("shadow_limited");
    assertThat(lines.get(0).get("retry_after").asLong()).isEqualTo(5);
  }

  @Test
  void onDecision_queryStringWithSecret_isNeverLogged() {
    StringWriter out = new StringWriter();
    AuditLog log = new AuditLog(out, false, FIXED, 16);
    Identity hashed = new Identity(new IdentitySpec(IdentityKind.API_KEY, null), "3f9a1c0e2b7d4a55");

    log.onDecision(request("GET", "/api/search", "api_key=sk_live_SECRET123", Map.of("x-api-key", "sk_live_SECRET123")),
        decision(PolicyDecision.of(search(Mode.ENFORCE), hashed, denied(0, SECOND, status(0, SECOND)))), 1);
    log.close();

    assertThat(out.toString()).doesNotContain("SECRET123").contains("\"identity_kind\":\"api_key\"")
        .contains("\"identity\":\"3f9a1c0e2b7d4a55\"");
  }

  @Test
  void onDecision_headerIdentity_kindNamesTheHeader() throws IOException {
    StringWriter out = new StringWriter();
    AuditLog log = new AuditLog(out, false, FIXED, 16);
    Identity tenant = new Identity(new IdentitySpec(IdentityKind.HEADER, "X-Tenant"), "a1b2c3");

    log.onDecision(request("GET", "/api/search"),
        decision(PolicyDecision.of(search(Mode.ENFORCE), tenant, denied(0, SECOND, status(0, SECOND)))), 1);
    log.close();

    assertThat(lines(out.toString()).get(0).get("identity_kind").asText()).isEqualTo("header:X-Tenant");
  }

  @Test
  void blocked_writesBlockedLine() throws IOException {
    StringWriter out = new StringWriter();
    AuditLog log = new AuditLog(out, false, FIXED, 16);

    log.blocked("", Decisions.IP, Decisions.client().client(), request("GET", "/admin"), 0);
    log.close();

    JsonNode line = lines(out.toString()).get(0);
    assertThat(line.get("outcome").asText()).isEqualTo("blocked");
    assertThat(line.get("policy").asText()).isEmpty();
    assertThat(line.get("limit").isNull()).isTrue();
  }

  @Test
  void anIpv6Client_isWrittenInItsCanonicalText() throws IOException {
    StringWriter out = new StringWriter();
    AuditLog log = new AuditLog(out, false, FIXED, 16);
    InetAddress v6 = InetAddress.getByName("2001:db8:0:0:0:0:0:7");

    log.onDecision(request("POST", "/auth/login", null, Map.of()),
        Decision.of(new ClientAddress(v6, "2001:db8::7"),
            List.of(pd(login(), denied(1, 90 * SECOND + 1, status(3, 0), status(0, 90 * SECOND + 1))))), 1000);
    log.blocked("", Decisions.IP, v6, request("GET", "/admin"), 0);
    log.close();

    // RFC 5952, as in identities and X-Forwarded-For; getHostAddress() would give 2001:db8:0:0:0:0:0:7.
    assertThat(lines(out.toString())).hasSize(2)
        .allSatisfy(line -> assertThat(line.get("client_ip").asText()).isEqualTo("2001:db8::7"));
  }

  @Test
  void onDecision_writerStuck_dropsAndCountsWithoutBlocking() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    StringWriter sink = new StringWriter();
    Writer stuck = new Writer() {
      @Override
      public void write(char[] buf, int off, int len) throws IOException {
        try {
          if (!release.await(10, TimeUnit.SECONDS)) {
            throw new IOException("test never released the writer");
          }
        } catch (InterruptedException e) {
          throw new IOException(e);
        }
        sink.write(buf, off, len);
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    AuditLog log = new AuditLog(stuck, false, FIXED, 2);
    Decision limited = decision(pd(search(Mode.ENFORCE), denied(0, SECOND, status(0, SECOND))));

    // The writer blocks on its first entry; this loop must still finish (it never waits).
    for (int i = 0; i < 10; i++) {
      log.onDecision(request("GET", "/api/search"), limited, 1);
    }
    long droppedWhileStuck = log.dropped();
    release.countDown();
    log.close();

    assertThat(droppedWhileStuck).isGreaterThanOrEqualTo(7);
    assertThat(log.written() + log.dropped()).isEqualTo(10);
    assertThat(lines(sink.toString())).hasSize((int) log.written());
  }

  @Test
  void open_file_appendsAcrossOpens(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("audit.jsonl");
    Decision limited = decision(pd(search(Mode.ENFORCE), denied(0, SECOND, status(0, SECOND))));
    for (int i = 0; i < 2; i++) {
      AuditLog log = AuditLog.open(Optional.of(file.toString()));
      log.onDecision(request("GET", "/api/search"), limited, 1);
      log.close();
    }

    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    assertThat(lines).hasSize(2).allSatisfy(l -> assertThat(l).contains("\"policy\":\"search\""));
    assertThat(JSON.readTree(lines.get(0)).get("time").asText())
        .matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z");
  }

  @Test
  void open_empty_isDisabledNoOp() {
    AuditLog log = AuditLog.open(Optional.empty());
    log.onDecision(request("GET", "/api/search"),
        decision(pd(search(Mode.ENFORCE), denied(0, SECOND, status(0, SECOND)))), 1);
    log.close();

    assertThat(log.enabled()).isFalse();
    assertThat(log.written()).isZero();
  }

  @Test
  void open_unwritablePath_failsNamingThePath(@TempDir Path dir) {
    String path = dir.resolve("missing-dir").resolve("audit.jsonl").toString();

    assertThatThrownBy(() -> AuditLog.open(Optional.of(path)))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageStartingWith("cannot open audit_log \"" + path + "\" for appending: ");
  }

  @Test
  void reopen_afterRename_writesLaterLinesToTheNewFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("audit.jsonl");
    Path rotated = dir.resolve("audit.jsonl.1");
    Decision limited = decision(pd(search(Mode.ENFORCE), denied(0, SECOND, status(0, SECOND))));
    AuditLog log = AuditLog.open(Optional.of(file.toString()));
    log.onDecision(request("GET", "/before"), limited, 1);
    // What logrotate does: rename, then signal. The line queued before the signal may still be
    // unwritten: it goes to the renamed file all the same, as it was decided before the reopen.
    Files.move(file, rotated);

    assertThat(log.reopen()).isTrue();
    log.onDecision(request("GET", "/after"), limited, 1);
    log.close();

    assertThat(lines(Files.readString(rotated))).extracting(n -> n.get("path").asText()).containsExactly("/before");
    assertThat(lines(Files.readString(file))).extracting(n -> n.get("path").asText()).containsExactly("/after");
  }

  @Test
  void reopen_standardOutputOrClosed_doesNothing() {
    AuditLog log = new AuditLog(new StringWriter(), false, FIXED, 4);
    assertThat(log.reopen()).isFalse();
    assertThat(AuditLog.open(Optional.empty()).reopen()).isFalse();
  }

  @Test
  void close_twice_isHarmless() {
    AuditLog log = new AuditLog(new StringWriter(), false, FIXED, 4);
    log.close();
    log.close();

    assertThat(log.written()).isZero();
  }
}
