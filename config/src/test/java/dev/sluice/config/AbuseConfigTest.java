package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.policy.Penalty;
import dev.sluice.policy.Policy;
import dev.sluice.policy.Priority;
import dev.sluice.policy.StatusRange;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The abuse-control keys of SPEC §7 reach the core builders. */
class AbuseConfigTest {
  private static final Map<String, String> ENV = Map.of("SLUICE_ADMIN_TOKEN", "0123456789abcdef0123");

  private static Path resourcePath(String name) {
    try {
      return Path.of(AbuseConfigTest.class.getResource("/" + name).toURI());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static SluiceConfig abuse() throws ConfigException {
    return ConfigLoader.load(resourcePath("valid/abuse.yaml"), ENV::get);
  }

  @Test
  void abuseFile_feedsEveryKeyToTheCore() throws Exception {
    SluiceConfig c = abuse();

    assertThat(c.gateway().maxInflight()).isEqualTo(200);
    assertThat(c.gateway().limitsInflight()).isTrue();
    assertThat(c.gateway().adminToken()).contains("0123456789abcdef0123");
    assertThat(c.gateway().toString()).doesNotContain("0123456789abcdef0123").contains("adminToken=(set)");
    assertThat(c.policies().blockIps().contains(InetAddress.getByName("203.0.113.9"))).isTrue();
    assertThat(c.policies().blockIps().contains(InetAddress.getByName("203.0.114.9"))).isFalse();
    assertThat(c.policies().blockApiKeys()).containsExactly("leaked-key-123");

    Policy login = c.policies().policies().get(0);
    assertThat(login.by()).containsExactly(IdentitySpec.parse("ip+body:username"), IdentitySpec.parse("ip"));
    assertThat(login.by().get(0).kind()).isEqualTo(IdentityKind.COMPOSITE);
    assertThat(login.count()).containsExactly(StatusRange.of(401), StatusRange.of(403), new StatusRange(500, 599));
    assertThat(login.penalty()).contains(new Penalty(Duration.ofMinutes(15), 2, Duration.ofHours(24), Penalty.Scope.POLICY));
    assertThat(login.priority()).isEqualTo(Priority.CRITICAL);
    assertThat(login.concurrency()).isZero();
    assertThat(c.policies().needsBody("POST", "/auth/login")).isTrue();
    assertThat(c.policies().needsBody("GET", "/auth/login")).isFalse();

    Policy exports = c.policies().policies().get(1);
    assertThat(exports.concurrency()).isEqualTo(2);
    assertThat(exports.priority()).isEqualTo(Priority.LOW);
    assertThat(exports.count()).isEmpty();
    assertThat(exports.penalty()).isEmpty();

    // Only ban given: no escalation, max defaults to 24h, scope policy.
    Policy perIp = c.policies().policies().get(2);
    assertThat(perIp.penalty()).contains(new Penalty(Duration.ofMinutes(1), 1, Duration.ofHours(24), Penalty.Scope.POLICY));
    assertThat(perIp.priority()).isEqualTo(Priority.NORMAL);
  }

  @Test
  void penalty_banLongerThanDefaultMax_defaultsMaxToTheBan() throws Exception {
    String yaml = "version: 1\ngateway: { upstream: http://h:1 }\npolicies:\n  - name: a\n"
        + "    match: { paths: [/a] }\n    limits: [1/second]\n    penalty: { ban: 2d, scope: all }\n";
    Penalty p = ConfigLoader.parse(yaml, "p.yaml", ENV::get)
        .policies().policies().get(0).penalty().orElseThrow();
    assertThat(p).isEqualTo(new Penalty(Duration.ofDays(2), 1, Duration.ofDays(2), Penalty.Scope.ALL));
  }

  @Test
  void sessionKeysFile_silencesTheSessionWarning() throws Exception {
    String yaml = """
        version: 1
        gateway: { upstream: http://127.0.0.1:5000 }
        clients:
          session: { cookie: sid, keys_file: sessions.txt }
          api_key: { header: X-API-Key }
        policies:
          - name: cart
            match: { paths: ["/cart/**"] }
            by: session
            limits: ["10/second"]
          - name: tenants
            match: { paths: ["/t/**"] }
            by: [api_key+header:X-Tenant, ip]
            limits: ["10/second"]
        """;
    SluiceConfig c = ConfigLoader.parse(yaml, resourcePath("valid/abuse.yaml").toString(), ENV::get);
    assertThat(c.warnings()).isEmpty();
    assertThat(c.policies().policies().get(1).by().get(0).parts())
        .extracting(IdentitySpec::kind).containsExactly(IdentityKind.API_KEY, IdentityKind.HEADER);
    assertThat(c.policies().needsBody("GET", "/t/x")).isFalse();
  }

  @Test
  void sessionKeysFile_emptyOrMissing_isRejected() {
    String yaml = "version: 1\ngateway: { upstream: http://h:1 }\nclients:\n  session: { cookie: sid, keys_file: nope.txt }\n";
    ConfigException e = org.assertj.core.api.Assertions.catchThrowableOfType(ConfigException.class,
        () -> ConfigLoader.parse(yaml, resourcePath("valid/abuse.yaml").toString(), ENV::get));
    assertThat(e.errors()).hasSize(1);
    assertThat(e.errors().get(0).line()).isEqualTo(4);
    assertThat(e.errors().get(0).column()).isEqualTo(38);
    assertThat(e.errors().get(0).message()).startsWith("clients.session.keys_file: cannot read \"nope.txt\": no such file");
  }

  @Test
  void bodyIdentity_warnsWithoutAnIpLimit() throws Exception {
    String yaml = "version: 1\ngateway: { upstream: http://h:1 }\npolicies:\n  - name: login\n"
        + "    match: { paths: [/login] }\n    by: body:username\n    limits: [5/minute]\n";
    assertThat(ConfigLoader.parse(yaml, "w.yaml", ENV::get).warnings()).containsExactly(
        "policy \"login\" identifies clients by body:username, a value clients choose, and no ip limit covers"
            + " /login: any invented value gets fresh buckets; add an ip limit on the same route");
  }

  @Test
  void matrix_showsAbuseNotesBlocksAndGatewayCaps() throws Exception {
    String matrix = PolicyMatrix.render(abuse());
    assertThat(matrix).contains(
        "; admin 127.0.0.1:9090 (admin API token required); max_inflight 200 (shed low first, critical last)\n",
        "IDENTITY",
        "ip+body:username > ip",
        """

            login-failures: counts only upstream statuses 401, 403, 5xx; penalty ban 15m, escalate 2x, max 24h, scope policy; priority critical
            exports: concurrency 2 in flight per identity; priority low
            api-per-ip: penalty ban 1m, escalate 1x, max 24h, scope policy

            exempt: none
            block (403): ips 203.0.113.0/24; 1 api key
            """);
  }

  @Test
  void referenceFile_withTheAdminTokenExampleUncommented_loadsEveryAbuseKey() throws Exception {
    String text = java.nio.file.Files.readString(ConfigLoaderTest.referenceFile());
    assertThat(text).contains("  # admin_token_env: SLUICE_ADMIN_TOKEN");
    String all = text.replace("  # admin_token_env: SLUICE_ADMIN_TOKEN", "  admin_token_env: SLUICE_ADMIN_TOKEN");
    SluiceConfig c = ConfigLoader.parse(all, ConfigLoaderTest.referenceFile().toString(),
        Map.of("SLUICE_ADMIN_TOKEN", "0123456789abcdef0123", "SLUICE_JWT_SECRET", "x")::get);
    assertThat(c.gateway().maxInflight()).isEqualTo(200);
    assertThat(c.gateway().adminToken()).isPresent();
    assertThat(c.policies().blockIps().isEmpty()).isTrue();
    Policy login = c.policies().policies().get(0);
    assertThat(login.count()).isNotEmpty();
    assertThat(login.penalty()).isPresent();
    assertThat(login.priority()).isEqualTo(Priority.CRITICAL);
    assertThat(c.policies().policies()).anySatisfy(p -> assertThat(p.concurrency()).isPositive());
    assertThat(c.policies().policies()).anySatisfy(p -> assertThat(p.by().get(0).readsBody()).isTrue());
    assertThat(Optional.of(c.policies().needsBody("POST", "/auth/login"))).contains(true);
    assertThat(List.of(c.gateway().limitsInflight())).containsExactly(true);
  }
}
