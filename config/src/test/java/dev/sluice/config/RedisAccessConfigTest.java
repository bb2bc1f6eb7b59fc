package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code store.password_env} and {@code store.tls}: serve, check, errors and masking. */
class RedisAccessConfigTest {
  private static final String PASSWORD = "pw-from-env-8d2e";

  @TempDir
  Path dir;

  private Path file(String store) throws Exception {
    Path file = dir.resolve("sluice.yaml");
    Files.writeString(file, """
        version: 1
        gateway:
          upstream: http://127.0.0.1:8000
        store:
        %s
        defaults:
          by: ip
          limits: ["10/minute"]
        """.formatted(store.indent(2).stripTrailing()));
    return file;
  }

  private List<String> errors(Path file, Map<String, String> env) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file, env::get));
    assertThat(e).as("expected the file to be refused").isNotNull();
    return e.errors().stream().map(ConfigError::toString).map(m -> m.replace(dir + "/sluice.yaml", "sluice.yaml")).toList();
  }

  @Test
  void passwordEnv_and_caFile_areRead_andNeverPrinted() throws Exception {
    Files.writeString(dir.resolve("redis-ca.pem"), "not parsed here");
    Path file = file("""
        type: redis
        url: rediss://sluice@redis.internal:6380
        password_env: SLUICE_REDIS_PASSWORD
        tls: { ca_file: redis-ca.pem }
        """);
    SluiceConfig config = ConfigLoader.load(file, Map.of("SLUICE_REDIS_PASSWORD", PASSWORD)::get);
    RedisAccess access = config.store().access();
    assertThat(access.password()).hasValue(PASSWORD);
    assertThat(access.passwordEnv()).hasValue("SLUICE_REDIS_PASSWORD");
    assertThat(access.caFile()).hasValue(dir.resolve("redis-ca.pem").normalize());
    assertThat(access.insecureSkipVerify()).isFalse();
    assertThat(config.store().toString()).doesNotContain(PASSWORD).contains("password=***");
    assertThat(config.warnings()).isEmpty();
  }

  @Test
  void passwordEnv_unset_isAnErrorForServe_andAWarningForCheck() throws Exception {
    Path file = file("""
        type: redis
        url: rediss://sluice@redis.internal:6380
        password_env: SLUICE_REDIS_PASSWORD
        tls: { ca_file: absent-ca.pem }
        """);
    assertThat(errors(file, Map.of())).containsExactly(
        "sluice.yaml:7:17: store.password_env: environment variable SLUICE_REDIS_PASSWORD is not set;"
            + " expected it to hold the redis password",
        "sluice.yaml:8:19: store.tls.ca_file: cannot read \"absent-ca.pem\": no such file (looked for "
            + dir.resolve("absent-ca.pem") + ")");
    SluiceConfig checked = ConfigLoader.loadForCheck(file, k -> null);
    assertThat(checked.warnings()).contains(
        "store.password_env: environment variable SLUICE_REDIS_PASSWORD is not set; expected it to hold"
            + " the redis password; serve fails without it");
    assertThat(checked.warnings()).anyMatch(w -> w.startsWith("store.tls.ca_file: cannot read \"absent-ca.pem\""));
  }

  @Test
  void passwordInTheUrl_isAWarning_unlessItComesFromTheEnvironment() throws Exception {
    Path literal = file("""
        type: redis
        url: redis://sluice:%s@127.0.0.1:6379
        """.formatted(PASSWORD));
    SluiceConfig config = ConfigLoader.load(literal, k -> null);
    assertThat(config.warnings()).anyMatch(w -> w.startsWith("store.url carries a password written in the policy file")
        && w.contains("password_env: SLUICE_REDIS_PASSWORD") && !w.contains(PASSWORD));

    Path substituted = file("""
        type: redis
        url: redis://sluice:${REDIS_PW}@127.0.0.1:6379
        """);
    SluiceConfig fromEnv = ConfigLoader.load(substituted, Map.of("REDIS_PW", PASSWORD)::get);
    assertThat(fromEnv.store().urls().get(0).getUserInfo()).isEqualTo("sluice:" + PASSWORD);
    assertThat(fromEnv.warnings()).noneMatch(w -> w.startsWith("store.url carries a password"));
  }

  @Test
  void contradictions_areErrorsWithPositions() throws Exception {
    assertThat(errors(file("""
        type: redis
        url: rediss://sluice:inline@127.0.0.1:6380
        password_env: SLUICE_REDIS_PASSWORD
        """), Map.of("SLUICE_REDIS_PASSWORD", PASSWORD))).containsExactly(
        "sluice.yaml:6:8: store.url carries a password and store.password_env gives one too; expected only"
            + " the user name in the url, e.g. rediss://sluice@redis.internal:6380");
    Files.writeString(dir.resolve("ca.pem"), "x");
    assertThat(errors(file("""
        type: redis
        url: redis://127.0.0.1:6379
        tls: { ca_file: ca.pem, insecure_skip_verify: true }
        """), Map.of())).containsExactly(
        "sluice.yaml:7:8: store.tls applies only to rediss:// urls and store.url has none; expected"
            + " rediss://host:port (TLS) or no store.tls",
        "sluice.yaml:7:49: store.tls: insecure_skip_verify: true contradicts ca_file (a CA is only used to"
            + " verify); expected one of them");
    assertThat(errors(file("""
        type: memory
        password_env: SLUICE_REDIS_PASSWORD
        """), Map.of())).containsExactly(
        "sluice.yaml:6:17: store.password_env applies only to type: redis (the store is memory); remove it");
  }

  @Test
  void insecureSkipVerify_isReadByName() throws Exception {
    SluiceConfig config = ConfigLoader.load(file("""
        type: redis
        url: [rediss://10.0.0.1:6380, rediss://10.0.0.2:6380]
        tls: { insecure_skip_verify: true }
        """), k -> null);
    assertThat(config.store().access().insecureSkipVerify()).isTrue();
    assertThat(config.store().urls()).hasSize(2);
  }
}
