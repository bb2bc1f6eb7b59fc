package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sluice.policy.Policy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rollout:}, {@code ${VAR}} substitution, drain and snapshot settings (SPEC §9). */
class RolloutConfigTest {
  private static final String HEAD = "version: 1\ngateway:\n  upstream: http://127.0.0.1:5000\n";
  private static final String POLICY = "policies:\n"
      + "  - name: search\n"
      + "    match: { paths: [\"/s\"] }\n"
      + "    limits: [\"10/second\"]\n";

  private static SluiceConfig parse(String yaml, Map<String, String> env) throws ConfigException {
    return ConfigLoader.parse(yaml, "s.yaml", env::get);
  }

  private static List<String> errors(String yaml, Map<String, String> env) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(yaml, env));
    assertThat(e).as("expected rejection of\n%s", yaml).isNotNull();
    return e.errors().stream().map(ConfigError::toString).toList();
  }

  @Test
  void rollout_percentages_becomeBasisPointsAndShadowIsZero() throws Exception {
    for (String[] c : new String[][] {{"10%", "1000"}, {"2.5%", "250"}, {"0.05%", "5"}, {"100%", "10000"}, {"0%", "0"}}) {
      Policy p = parse(HEAD + POLICY + "    rollout: " + c[0] + "\n", Map.of()).policies().policies().get(0);
      assertThat(p.rollout()).as(c[0]).isEqualTo(Integer.parseInt(c[1]));
    }
    Policy shadow = parse(HEAD + POLICY + "    mode: shadow\n", Map.of()).policies().policies().get(0);
    assertThat(shadow.rollout()).isZero();
  }

  @Test
  void rollout_badShares_areRejectedAtTheValue() {
    for (String bad : List.of("10", "101%", "ten%", "1.234%", "-5%")) {
      assertThat(errors(HEAD + POLICY + "    rollout: \"" + bad + "\"\n", Map.of()))
          .containsExactly("s.yaml:8:14: policies[0].rollout: \"" + bad + "\" is not a rollout share; expected a"
              + " percentage from 0% to 100% (e.g. rollout: 10%)");
    }
  }

  @Test
  void rollout_withConcurrency_isRejected() {
    assertThat(errors(HEAD + POLICY + "    rollout: 10%\n    concurrency: 2\n", Map.of()).get(0))
        .startsWith("s.yaml:8:14: policy \"search\": concurrency cannot be used with a partial rollout (10%)");
  }

  @Test
  void env_substitution_valuesDefaultsAndDollar() throws Exception {
    String yaml = "version: 1\ngateway:\n"
        + "  listen: \"127.0.0.1:${PORT}\"\n"
        + "  upstream: \"http://${APP_HOST:-127.0.0.1}:5000\"\n"
        + "  admin: \"127.0.0.1:${ADMIN:-9191}\"\n"
        + "policies:\n"
        + "  - name: search\n"
        + "    match: { paths: [\"/s/$$x\"] }\n"
        + "    limits: [\"${LIMIT}\"]\n";

    SluiceConfig c = parse(yaml, Map.of("PORT", "8181", "LIMIT", "7/second", "ADMIN", ""));

    assertThat(c.gateway().listen().getPort()).isEqualTo(8181);
    assertThat(c.gateway().upstream().toString()).isEqualTo("http://127.0.0.1:5000");
    assertThat(c.gateway().admin().getPort()).as("empty variable takes the default").isEqualTo(9191);
    assertThat(c.policies().policies().get(0).paths()).containsExactly("/s/$x");
    assertThat(c.policies().policies().get(0).limits().get(0).quantity()).isEqualTo(7);
  }

  @Test
  void env_missingVariable_isAnErrorAtItsDollarForServeAndAWarningForCheck(@TempDir Path dir) throws Exception {
    String yaml = HEAD + POLICY.replace("10/second", "${LIMIT}") + "    cost: \"${COST:-2}\"\n";
    assertThat(errors(yaml, Map.of())).containsExactly(
        "s.yaml:7:15: environment variable LIMIT is not set and ${LIMIT} has no default; expected it set,"
            + " or a default such as ${LIMIT:-value}");

    Path file = dir.resolve("s.yaml");
    Files.writeString(file, HEAD + "  listen: \"127.0.0.1:${PORT:-8080}\"\n  admin: \"${NOPE}\"\n" + POLICY);
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.loadForCheck(file, k -> null));
    assertThat(e.errors()).extracting(ConfigError::toString)
        .as("the reference stays as written, so the address itself is then invalid")
        .anyMatch(m -> m.startsWith(file + ":5:10: gateway.admin"));

    Files.writeString(file, HEAD + "  listen: \"127.0.0.1:${PORT:-8080}\"\n" + POLICY.replace("[\"/s\"]", "[\"/${SEG}\"]"));
    SluiceConfig checked = ConfigLoader.loadForCheck(file, k -> null);
    assertThat(checked.warnings()).contains("environment variable SEG (line 7, column 22) is not set and has no"
        + " default: sluice serve would refuse this file");
  }

  @Test
  void env_badReferences_areErrorsWithPositions() {
    assertThat(errors(HEAD + POLICY.replace("10/second", "${LIMIT"), Map.of()).get(0))
        .startsWith("s.yaml:7:15: environment reference \"${LIMIT\" has no closing '}'");
    assertThat(errors(HEAD + POLICY.replace("10/second", "${1X}"), Map.of()).get(0))
        .startsWith("s.yaml:7:15: \"${1X}\" is not an environment reference");
  }

  @Test
  void env_substitutedValueThatIsInvalid_isReportedAtTheValue() {
    assertThat(errors(HEAD + POLICY.replace("10/second", "${LIMIT}"), Map.of("LIMIT", "10/fortnight")).get(0))
        .startsWith("s.yaml:7:14: policies[0].limits[0]: invalid limit \"10/fortnight\"");
  }

  @Test
  void printEffective_substitutesAndMasksSecrets(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("s.yaml");
    Files.writeString(file, "version: 1   # comment kept\n"
        + "gateway:\n"
        + "  listen: \"127.0.0.1:${PORT}\"\n"
        + "  upstream: http://127.0.0.1:5000\n"
        + "clients: { api_key: { header: X-API-Key } }\n"
        + "store: { type: redis, url: \"redis://:${REDIS_PASSWORD}@${REDIS_HOST}:6379\" }\n"
        + "exempt: { api_keys: [internal-batch-key] }\n"
        + POLICY);

    String shown = ConfigLoader.effective(file,
        Map.of("PORT", "8181", "REDIS_PASSWORD", "hunter2", "REDIS_HOST", "cache.internal")::get);

    assertThat(shown).contains("version: 1   # comment kept\n")
        .contains("  listen: \"127.0.0.1:8181\"\n")
        .contains("url: \"redis://:****@cache.internal:6379\"")
        .contains("api_keys: [\"****\"]")
        .doesNotContain("hunter2").doesNotContain("internal-batch-key");
  }

  @Test
  void lifecycle_defaultsAndValues() throws Exception {
    SluiceConfig defaults = parse(HEAD + POLICY, Map.of());
    assertThat(defaults.lifecycle()).isEqualTo(LifecycleSettings.defaults());

    SluiceConfig set = ConfigLoader.parse(HEAD + "  drain_grace: 0s\n  shutdown_timeout: 2m\n"
        + "store: { snapshot: state/store.snapshot }\n" + POLICY, "/etc/sluice/s.yaml", k -> null);
    assertThat(set.lifecycle().drainGrace()).isEqualTo(Duration.ZERO);
    assertThat(set.lifecycle().shutdownTimeout()).isEqualTo(Duration.ofMinutes(2));
    assertThat(set.lifecycle().snapshot()).contains(Path.of("/etc/sluice/state/store.snapshot"));
    assertThat(errors(HEAD + "  shutdown_timeout: 0s\n" + POLICY, Map.of()).get(0)).startsWith("s.yaml:4:21: ");
  }
}
