package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sluice.match.EncodedSlashes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@code gateway.encoded_slashes}: read, defaulted, and checked against the policies' patterns. */
class EncodedSlashesConfigTest {

  private static SluiceConfig parse(String gatewayExtra, String policies) throws ConfigException {
    return ConfigLoader.parse("version: 1\ngateway:\n  upstream: http://h:1\n" + gatewayExtra + policies, "e.yaml");
  }

  private static final String LOGIN =
      "policies:\n  - name: login\n    match: { paths: [\"/auth/login\"] }\n    by: ip\n    limits: [\"5/minute\"]\n";

  @Test
  void encodedSlashes_unset_isDecode() throws Exception {
    assertThat(parse("", LOGIN).gateway().encodedSlashes()).isEqualTo(EncodedSlashes.DECODE);
  }

  @ParameterizedTest
  @EnumSource(EncodedSlashes.class)
  void encodedSlashes_eachValue_isRead(EncodedSlashes mode) throws Exception {
    SluiceConfig config = parse("  encoded_slashes: " + mode.configName() + "\n", LOGIN);

    assertThat(config.gateway().encodedSlashes()).isEqualTo(mode);
    assertThat(config.gateway().toString()).contains("encodedSlashes=" + mode.configName());
  }

  @Test
  void encodedSlashes_unknownValue_isAPositionedErrorListingTheValues() {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> parse("  encoded_slashes: decoded\n", LOGIN));

    assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
        "e.yaml:4:20: gateway.encoded_slashes: unknown value \"decoded\"; expected one of decode, reject, keep"
            + " (did you mean \"decode\"?)");
  }

  @Test
  void encodedSlashes_notAString_isAPositionedError() {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> parse("  encoded_slashes: [decode]\n", LOGIN));

    assertThat(e.errors()).hasSize(1);
    assertThat(e.errors().get(0).toString()).startsWith("e.yaml:4:20: gateway.encoded_slashes: expected");
  }

  @Test
  void patternWithEncodedSlash_underDecode_isAnErrorAtThePattern() {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse("",
        "policies:\n  - name: files\n    match: { paths: [\"/files/a%2Fb\"] }\n    by: ip\n    limits: [\"5/minute\"]\n"));

    assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
        "e.yaml:6:22: policies[0].match.paths[0]: \"/files/a%2Fb\" holds an encoded slash \"%2F\", which never"
            + " matches while gateway.encoded_slashes is decode; expected \"/files/a/b\", or encoded_slashes: keep"
            + " for an upstream that routes %2F as a literal");
  }

  @Test
  void patternWithEncodedSlash_underKeep_isAccepted() throws Exception {
    SluiceConfig config = parse("  encoded_slashes: keep\n",
        "policies:\n  - name: files\n    match: { paths: [\"/files/a%2Fb\"] }\n    by: ip\n    limits: [\"5/minute\"]\n");

    assertThat(config.policies().policies()).hasSize(1);
  }
}
