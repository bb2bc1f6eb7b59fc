package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 9: YAML is bounded by what it expands to, not by counting aliases, and its errors sit at
 * the offending node.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class YamlBoundsTest {
  private static final String HEAD = "version: 1\ngateway: { upstream: http://127.0.0.1:5000 }\n";

  private static List<String> errors(String yaml) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, "y.yaml", k -> null));
    assertThat(e).as("expected the file to be rejected").isNotNull();
    return e.errors().stream().map(ConfigError::toString).toList();
  }

  @Test
  void sixtyPolicies_sharingOneMatchByAlias_load() throws ConfigException {
    StringBuilder yaml = new StringBuilder(HEAD).append("policies:\n");
    yaml.append("  - name: p0\n    match: &routes { methods: [GET, POST], paths: [\"/api/**\", \"/v2/**\"] }\n")
        .append("    limits: [\"10/second\"]\n");
    for (int i = 1; i < 60; i++) {
      yaml.append("  - name: p").append(i).append("\n    match: *routes\n    limits: [\"").append(i + 1)
          .append("/second\"]\n");
    }

    SluiceConfig config = ConfigLoader.parse(yaml.toString(), "aliases.yaml", k -> null);

    assertThat(config.policies().policies()).hasSize(60);
    assertThat(config.policies().policies().get(59).paths()).containsExactly("/api/**", "/v2/**");
  }

  @Test
  void billionLaughs_isRejectedAtTheAliasThatExpandsTooFar_promptly() {
    StringBuilder yaml = new StringBuilder(HEAD).append("a: &a [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n");
    char prev = 'a';
    for (char c = 'b'; c <= 'i'; c++) {
      yaml.append(c).append(": &").append(c).append(" [");
      for (int k = 0; k < 9; k++) {
        yaml.append(k == 0 ? "" : ", ").append('*').append(prev);
      }
      yaml.append("]\n");
      prev = c;
    }
    long start = System.nanoTime();

    List<String> errors = errors(yaml.toString());

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    // Levels a..e hold 74,7xx values; the first *e inside f crosses 100000: that is where the bomb goes off.
    assertThat(errors).containsExactly("y.yaml:8:8: alias *e expands to 66430 values, which makes the"
        + " policy file larger than 100000 values once aliases are expanded; expected fewer (an alias bomb?)");
  }

  @Test
  void recursiveAlias_isRejectedAtTheAlias() {
    assertThat(errors(HEAD + "policies: &p\n  - *p\n")).containsExactly(
        "y.yaml:4:5: alias *p refers to a value that contains it; expected an alias to a value defined"
            + " before it, outside it");
  }

  @Test
  void deepNesting_isRejectedAtTheFirstTooDeepValue() {
    String deep = "[".repeat(100) + "]".repeat(100);
    assertThat(errors(HEAD + "defaults: " + deep + "\n")).containsExactly(
        "y.yaml:3:74: lists and mappings nest more than 64 levels deep here; expected a policy file"
            + " nested a few levels (version, policies, match, paths)");
  }

  @Test
  void penaltyMessage_saysDurationsAsWritten() {
    assertThat(errors(HEAD + "policies:\n  - name: a\n    match: { paths: [\"/a\"] }\n    limits: [\"5/minute\"]\n"
        + "    penalty: { ban: 15m, max: 10m }\n")).containsExactly(
        "y.yaml:7:31: policies[0].penalty.max: penalty max 10m is not allowed; expected a duration from"
            + " the ban (15m) to 365d (use block: for permanent refusals)");
  }

  @Test
  void syntaxError_keepsItsPosition() {
    assertThat(errors(HEAD + "policies: [\n")).hasSize(1).first().asString().startsWith("y.yaml:4:1: YAML syntax error:");
  }
}
