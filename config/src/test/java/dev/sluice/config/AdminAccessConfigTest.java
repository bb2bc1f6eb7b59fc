package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code gateway.admin_token_env}, {@code admin_insecure} and {@code admin_hosts}: an admin API
 * without a token is refused beyond loopback and warned about everywhere (issue 9, point 4).
 */
class AdminAccessConfigTest {
  private static final Map<String, String> ENV = Map.of("SLUICE_ADMIN_TOKEN", "0123456789abcdef0123");

  private static SluiceConfig parse(String gatewayLines) throws ConfigException {
    return ConfigLoader.parse("version: 1\ngateway:\n  upstream: http://127.0.0.1:5000\n" + gatewayLines,
        "sluice.yaml", ENV::get);
  }

  private static List<String> errors(String gatewayLines) {
    try {
      parse(gatewayLines);
    } catch (ConfigException e) {
      return e.errors().stream().map(ConfigError::toString).toList();
    }
    throw new AssertionError("expected the file to be refused");
  }

  @Test
  void adminOnAllInterfaces_withoutToken_isRefusedAtTheAdminField() {
    List<String> errors = errors("  admin: 0.0.0.0:9090\n");

    assertThat(errors).containsExactly("sluice.yaml:4:10: gateway.admin: the admin API would listen on"
        + " 0.0.0.0:9090, beyond loopback, without a token: anyone who can reach that address could create and"
        + " lift bans; expected gateway.admin_token_env (a bearer token), gateway.admin on a loopback address"
        + " such as 127.0.0.1:9090, or gateway.admin_insecure: true to accept the risk");
  }

  @Test
  void adminOnIpv6AnyOrAPrivateAddress_withoutToken_isRefused() {
    assertThat(errors("  admin: \"[::]:9090\"\n")).singleElement().asString()
        .contains("gateway.admin: the admin API would listen on [0:0:0:0:0:0:0:0]:9090, beyond loopback");
    assertThat(errors("  admin: 10.1.2.3:9090\n")).singleElement().asString()
        .contains("10.1.2.3:9090, beyond loopback");
  }

  @Test
  void adminBeyondLoopback_withToken_isAcceptedWithoutWarning() throws Exception {
    SluiceConfig c = parse("  admin: 0.0.0.0:9090\n  admin_token_env: SLUICE_ADMIN_TOKEN\n");

    assertThat(c.gateway().adminToken()).isPresent();
    assertThat(c.gateway().adminWarnings()).isEmpty();
  }

  @Test
  void adminBeyondLoopback_insecureWritten_isAcceptedWithALoudWarning() throws Exception {
    SluiceConfig c = parse("  admin: 0.0.0.0:9090\n  admin_insecure: true\n");

    assertThat(c.gateway().adminAccess().insecure()).isTrue();
    assertThat(c.gateway().adminWarnings()).containsExactly("gateway.admin_insecure is true: the admin API on 0.0.0.0:9090 listens"
        + " beyond loopback WITHOUT A TOKEN: anyone who can reach that address can create and lift bans and read"
        + " /metrics; set gateway.admin_token_env, or bind gateway.admin to 127.0.0.1");
  }

  @Test
  void adminOnLoopback_withoutToken_isAcceptedWithAWarning() throws Exception {
    SluiceConfig c = parse("");

    assertThat(c.gateway().adminWarnings()).containsExactly("the admin API on 127.0.0.1:9090 has no token (gateway.admin_token_env is"
        + " not set): any process on this host can create and lift bans and read /metrics; set"
        + " gateway.admin_token_env to require Authorization: Bearer <token>");
  }

  @Test
  void adminTokenEnvWritten_warnsNothingAndRefusesNothing_evenBeyondLoopback() throws Exception {
    SluiceConfig c = parse("  admin: 0.0.0.0:9090\n  admin_token_env: SLUICE_ADMIN_TOKEN\n");

    assertThat(c.gateway().adminAccess().tokenWritten()).isTrue();
    assertThat(c.warnings()).isEmpty();
  }

  @Test
  void adminInsecureFalse_beyondLoopback_isStillRefused() {
    assertThat(errors("  admin: 0.0.0.0:9090\n  admin_insecure: false\n")).singleElement().asString()
        .contains("beyond loopback, without a token");
  }

  @Test
  void adminInsecure_notABoolean_isAPositionedError() {
    assertThat(errors("  admin_insecure: yes please\n")).singleElement().asString()
        .startsWith("sluice.yaml:4:19: gateway.admin_insecure");
  }

  @Test
  void adminHosts_areReadLowerCased() throws Exception {
    SluiceConfig c = parse("  admin_hosts: [Sluice-Admin.internal, \"admin.example:8443\"]\n");

    assertThat(c.gateway().adminAccess().hosts()).containsExactly("sluice-admin.internal", "admin.example:8443");
  }

  @Test
  void adminHosts_badNameOrDuplicate_arePositionedErrors() {
    assertThat(errors("  admin_hosts: [\"evil.example/x\"]\n")).singleElement().asString()
        .startsWith("sluice.yaml:4:17: gateway.admin_hosts[0]: \"evil.example/x\" is not a host name");
    assertThat(errors("  admin_hosts: [a.example, A.example]\n")).singleElement().asString()
        .startsWith("sluice.yaml:4:28: gateway.admin_hosts[1]: \"A.example\" is listed twice");
  }
}
