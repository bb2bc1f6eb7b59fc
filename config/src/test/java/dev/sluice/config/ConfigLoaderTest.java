package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.policy.Mode;
import dev.sluice.policy.OnError;
import dev.sluice.policy.Policy;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  private static final Map<String, String> ENV = Map.of("SLUICE_JWT_SECRET", "0123456789abcdef0123456789abcdef");

  @TempDir Path dir;

  private static Path resourcePath(String name) {
    try {
      return Path.of(ConfigLoaderTest.class.getResource("/" + name).toURI());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** docs/ sits two folders above the test classes' module: config/src/test/resources → ../docs. */
  static Path referenceFile() {
    Path module = Path.of("").toAbsolutePath();
    Path candidate = module.resolve("../docs/sluice.reference.yaml").normalize();
    assertThat(candidate).as("reference policy file").exists();
    return candidate;
  }

  @Test
  void referenceFile_loads_withEveryDefault() throws Exception {
    SluiceConfig c = ConfigLoader.load(referenceFile(), ENV::get);

    assertThat(c.gateway()).isEqualTo(new GatewaySettings(
        new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 8080), URI.create("http://127.0.0.1:5000"),
        new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 9090), Duration.ofSeconds(30),
        200 /* the file's max_inflight example */, java.util.Optional.empty()));
    assertThat(c.store()).isEqualTo(StoreSettings.defaults());
    assertThat(c.headers()).isEqualTo(HeaderStyle.IETF);
    assertThat(c.auditLog()).isEmpty();
    assertThat(c.policies().policies()).extracting(Policy::name)
        .containsExactly("login", "search", "reports", "api-per-ip", "login-per-user");
    assertThat(c.policies().defaults()).isPresent();
  }

  @Test
  void specExample_loads_withEveryValue() throws Exception {
    SluiceConfig c = ConfigLoader.load(resourcePath("valid/spec-example.yaml"), ENV::get);

    assertThat(c.source()).isEqualTo(resourcePath("valid/spec-example.yaml"));
    // Relative to the policy file's folder, like keys_file.
    assertThat(c.auditLog()).contains(resourcePath("valid/spec-example.yaml").resolveSibling("sluice-audit.jsonl").toString());
    assertThat(c.policies().exemptApiKeys()).containsExactly("internal-batch-key");
    assertThat(c.policies().exemptIps().contains(InetAddress.getByName("10.2.3.4"))).isTrue();
    assertThat(c.policies().exemptIps().contains(InetAddress.getByName("11.2.3.4"))).isFalse();

    List<Policy> policies = c.policies().policies();
    Policy login = policies.get(0);
    assertThat(login.methods()).containsExactly("POST");
    assertThat(login.paths()).containsExactly("/auth/login");
    assertThat(login.by()).containsExactly(new IdentitySpec(IdentityKind.IP, null));
    assertThat(login.limits()).extracting(Limit::quantity, Limit::period, Limit::burst)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(5L, Duration.ofMinutes(1), 5L),
            org.assertj.core.groups.Tuple.tuple(20L, Duration.ofHours(1), 20L));
    Policy search = policies.get(1);
    assertThat(search.by()).containsExactly(
        new IdentitySpec(IdentityKind.API_KEY, null), new IdentitySpec(IdentityKind.IP, null));
    assertThat(search.limits().get(0).burst()).isEqualTo(20);
    Policy reports = policies.get(2);
    assertThat(reports.cost()).isEqualTo(5);
    assertThat(reports.mode()).isEqualTo(Mode.SHADOW);
    assertThat(reports.algorithm()).isEqualTo(Algorithm.GCRA);
    assertThat(c.policies().defaults().orElseThrow().limits()).extracting(Limit::quantity).containsExactly(100L);
  }

  @Test
  void minimalFile_getsSpecDefaults() throws Exception {
    SluiceConfig c = ConfigLoader.parse("version: 1\ngateway:\n  upstream: http://127.0.0.1:5000\n", "m.yaml", ENV::get);

    assertThat(c.gateway().listen()).isEqualTo(new InetSocketAddress("127.0.0.1", 8080));
    assertThat(c.gateway().admin()).isEqualTo(new InetSocketAddress("127.0.0.1", 9090));
    assertThat(c.gateway().upstreamTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.store().type()).isEqualTo(StoreType.MEMORY);
    assertThat(c.store().onError()).isEqualTo(OnError.ALLOW);
    assertThat(c.store().timeout()).isEqualTo(Duration.ofMillis(50));
    assertThat(c.store().maxKeys()).isEqualTo(1_000_000L);
    assertThat(c.headers()).isEqualTo(HeaderStyle.IETF);
    assertThat(c.policies().policies()).isEmpty();
    assertThat(c.policies().defaults()).isEmpty();
    assertThat(c.source()).isEqualTo(Path.of("m.yaml"));
  }

  @Test
  void redisStore_withClusterUrls_isRead() throws Exception {
    SluiceConfig c = ConfigLoader.load(resourcePath("valid/redis.yaml"), ENV::get);

    assertThat(c.store().type()).isEqualTo(StoreType.REDIS);
    assertThat(c.store().urls()).containsExactly(URI.create("redis://10.0.0.1:6379"), URI.create("redis://10.0.0.2:6379"));
    assertThat(c.store().onError()).isEqualTo(OnError.DENY);
    assertThat(c.store().timeout()).isEqualTo(Duration.ofMillis(20));
    Policy all = c.policies().policies().get(0);
    assertThat(all.algorithm()).isEqualTo(Algorithm.SLIDING_WINDOW);
    assertThat(all.onError()).contains(OnError.ALLOW);
    assertThat(c.policies().onErrorOf(all)).isEqualTo(OnError.ALLOW);
  }

  @Test
  void keysFile_isResolvedRelativeToThePolicyFile() throws Exception {
    SluiceConfig c = ConfigLoader.load(resourcePath("valid/with-keys-file.yaml"), ENV::get);

    assertThat(c.warnings()).isEmpty();
  }

  @Test
  void keysFile_missing_isRejectedNamingTheResolvedPath() throws Exception {
    Path file = dir.resolve("sluice.yaml");
    Files.writeString(file, "version: 1\ngateway: { upstream: http://127.0.0.1:5000 }\n"
        + "clients:\n  api_key: { header: X-API-Key, keys_file: keys/none.txt }\n");

    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file, ENV::get));

    assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
        file + ":4:44: clients.api_key.keys_file: cannot read \"keys/none.txt\": no such file (looked for "
            + dir.toAbsolutePath().resolve("keys/none.txt") + ")");
  }

  @Test
  void keysFile_withOnlyComments_isRejected() throws Exception {
    Files.writeString(dir.resolve("keys.txt"), "# none yet\n\n");
    Path file = dir.resolve("sluice.yaml");
    Files.writeString(file, "version: 1\ngateway: { upstream: http://127.0.0.1:5000 }\n"
        + "clients:\n  api_key: { query: key, keys_file: keys.txt }\n");

    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file, ENV::get));

    assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
        file + ":4:37: clients.api_key.keys_file: the keys file lists no keys; expected one key a line"
            + " (raw or lowercase sha256 hex)");
  }

  @Test
  void load_missingFile_isOneWholeFileError() {
    Path file = dir.resolve("absent.yaml");

    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file));

    assertThat(e.errors()).extracting(ConfigError::toString)
        .containsExactly(file + ": cannot read the policy file: no such file");
  }

  @Test
  void load_directory_isOneWholeFileError() {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(dir));

    assertThat(e.errors()).extracting(ConfigError::toString)
        .containsExactly(dir + ": cannot read the policy file: it is a directory; expected a regular file");
  }

  @Test
  void durations_allUnits_areRead() throws Exception {
    for (Map.Entry<String, Duration> e : Map.of("50ms", Duration.ofMillis(50), "30s", Duration.ofSeconds(30),
        "15m", Duration.ofMinutes(15), "23h", Duration.ofHours(23), "1d", Duration.ofDays(1)).entrySet()) {
      SluiceConfig c = ConfigLoader.parse("version: 1\ngateway: { upstream: http://h:1, upstream_timeout: "
          + e.getKey() + " }\n", "d.yaml", ENV::get);
      assertThat(c.gateway().upstreamTimeout()).as(e.getKey()).isEqualTo(e.getValue());
    }
  }

  @Test
  void addresses_ipv6AndPortZero_areRead() throws Exception {
    SluiceConfig c = ConfigLoader.parse(
        "version: 1\ngateway: { upstream: http://h:1, listen: '[::1]:0', admin: 'localhost:9091' }\n", "a.yaml", ENV::get);

    assertThat(c.gateway().listen()).isEqualTo(new InetSocketAddress(InetAddress.getByName("::1"), 0));
    assertThat(c.gateway().admin().getPort()).isEqualTo(9091);
    assertThat(c.gateway().admin().getAddress().isLoopbackAddress()).isTrue();
  }

  @Test
  void storeUrl_withMemoryStore_isRejected() {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(
        "version: 1\ngateway: { upstream: http://h:1 }\nstore:\n  url: redis://h:6379\n", "s.yaml", ENV::get));

    assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
        "s.yaml:4:8: store.url applies only to type: redis (the store is memory); remove it");
  }

  @Test
  void redisStore_withoutUrl_isRejected() {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(
        "version: 1\ngateway: { upstream: http://h:1 }\nstore:\n  type: redis\n", "s.yaml", ENV::get));

    assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
        "s.yaml:4:3: store.url is required; e.g. url: redis://127.0.0.1:6379");
  }

  @Test
  void jwt_bothSecretAndJwks_isRejected() {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(
        "version: 1\ngateway: { upstream: http://h:1 }\nclients:\n  user:\n    jwt: { hs256_secret_env: SLUICE_JWT_SECRET, jwks_file: j.json }\n",
        "j.yaml", ENV::get));

    assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
        "j.yaml:5:10: clients.user.jwt: expected exactly one of hs256_secret_env or jwks_file");
  }

  @Test
  void auditLog_dash_meansStdout() throws Exception {
    SluiceConfig c = ConfigLoader.parse("version: 1\ngateway: { upstream: http://h:1 }\naudit_log: '-'\nheaders: both\n",
        "x.yaml", ENV::get);

    assertThat(c.auditLog()).isEqualTo(Optional.of("-"));
    assertThat(c.headers()).isEqualTo(HeaderStyle.BOTH);
  }

  @Test
  void configError_toString_hasFileLineColumnMessage() {
    assertThat(new ConfigError("a.yaml", 3, 7, "bad")).hasToString("a.yaml:3:7: bad");
    assertThat(new ConfigError("a.yaml", 0, 0, "unreadable")).hasToString("a.yaml: unreadable");
  }

  static void write(Path p, String s) {
    try {
      Files.writeString(p, s);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void jwksFile_isReadRelativeToThePolicyFileAndCheckedByTheCore() throws Exception {
    Files.createDirectories(dir.resolve("secrets"));
    Files.writeString(dir.resolve("secrets/jwks.json"), "{\"keys\": []}");
    Path file = dir.resolve("sluice.yaml");
    Files.writeString(file, "version: 1\ngateway: { upstream: http://127.0.0.1:5000 }\n"
        + "clients:\n  user: { jwt: { jwks_file: secrets/jwks.json } }\n");

    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file, ENV::get));

    assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
        file + ":4:29: clients.user.jwt.jwks_file: invalid JWKS: it contains no usable signing key;"
            + " expected RSA (RS256) or EC P-256 (ES256) keys");
  }

  @Test
  void hs256Secret_fromInjectedEnvironment_loads() throws Exception {
    SluiceConfig c = ConfigLoader.parse("version: 1\ngateway: { upstream: http://h:1 }\n"
        + "clients:\n  user: { jwt: { claim: uid, hs256_secret_env: MY_SECRET } }\n"
        + "policies:\n  - { name: u, match: { paths: [/u] }, by: [user, ip], limits: [1/second] }\n",
        "u.yaml", Map.of("MY_SECRET", "abc")::get);

    assertThat(c.policies().policies().get(0).by()).extracting(IdentitySpec::kind)
        .containsExactly(IdentityKind.USER, IdentityKind.IP);
  }

  @Test
  void quotedNumbers_andSingleValuesForLists_areAccepted() throws Exception {
    SluiceConfig c = ConfigLoader.parse("version: '1'\ngateway: { upstream: http://h:1 }\n"
        + "store: { max_keys: \"1_000\" }\nclients: { trusted_proxies: 10.0.0.0/8 }\nexempt: { ips: 192.168.0.0/16 }\n"
        + "policies:\n  - name: one\n    match: { methods: post, paths: /x }\n    limits: 5/minute\n    cost: \"2\"\n",
        "q.yaml", ENV::get);

    Policy p = c.policies().policies().get(0);
    assertThat(p.methods()).containsExactly("POST");
    assertThat(p.paths()).containsExactly("/x");
    assertThat(p.cost()).isEqualTo(2);
    assertThat(c.store().maxKeys()).isEqualTo(1000);
    assertThat(c.policies().exemptIps().contains(InetAddress.getByName("192.168.7.7"))).isTrue();
  }
}
