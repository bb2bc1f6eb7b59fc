package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Broken policy files (test resources under {@code broken/}) and the exact errors they produce.
 * The messages are product: these tests pin their wording and positions.
 */
class ConfigErrorsTest {

  private static final Map<String, String> ENV = Map.of("SLUICE_JWT_SECRET", "0123456789abcdef0123456789abcdef");

  static List<String> errorsOf(String resource) {
    String yaml = resource(resource);
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> ConfigLoader.parse(yaml, resource.substring(resource.indexOf('/') + 1), ENV::get));
    assertThat(e).as("expected %s to be rejected", resource).isNotNull();
    return e.errors().stream().map(ConfigError::toString).toList();
  }

  static String resource(String name) {
    try (InputStream in = ConfigErrorsTest.class.getResourceAsStream("/" + name)) {
      assertThat(in).as("test resource %s", name).isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void unknownField_nearMiss_isRejectedWithSuggestionAndValidFields() {
    assertThat(errorsOf("broken/unknown-field.yaml")).containsExactly(
        "unknown-field.yaml:4:3: unknown field \"listn\" in gateway; did you mean \"listen\"?"
            + " (valid fields: listen, upstream, admin, upstream_timeout, max_inflight, admin_token_env,"
            + " encoded_slashes, header_timeout, body_timeout, max_connections, max_connections_per_ip,"
            + " proxy_protocol,"
            + " admin_insecure, admin_hosts, drain_grace, shutdown_timeout, tls, upstream_tls)");
  }

  @Test
  void limit_badBurstToken_isRejectedAtTheTokenInsideTheQuotedString() {
    assertThat(errorsOf("broken/bad-limit-token.yaml")).containsExactly(
        "bad-limit-token.yaml:7:43: policies[0].limits[1]: invalid limit \"10/second burst lots\":"
            + " expected a positive integer for the burst, got \"lots\"");
  }

  @Test
  void limit_unknownUnit_isRejectedAtTheUnitInsideThePlainString() {
    assertThat(errorsOf("broken/bad-unit.yaml")).containsExactly(
        "bad-unit.yaml:6:9: defaults.limits[0]: invalid limit \"5/fortnight\": unknown unit"
            + " \"fortnight\", expected second, minute, hour or day (or s, m, h, d)");
  }

  @Test
  void limit_zeroQuantity_isRejectedAtTheQuantity() {
    assertThat(errorsOf("broken/zero-quantity.yaml")).containsExactly(
        "zero-quantity.yaml:5:13: defaults.limits[0]: invalid limit \"0/minute\": the quantity must"
            + " be a positive integer, got 0");
  }

  @Test
  void trustedProxies_badCidrInList_isRejectedAtThatEntry() {
    assertThat(errorsOf("broken/bad-cidr-in-list.yaml")).containsExactly(
        "bad-cidr-in-list.yaml:7:7: clients.trusted_proxies[1]: invalid CIDR \"10.1.0.0/33\":"
            + " prefix length 33 is out of range 0..32");
  }

  @Test
  void policies_duplicateName_isRejectedAtTheSecondName() {
    assertThat(errorsOf("broken/duplicate-policy-names.yaml")).containsExactly(
        "duplicate-policy-names.yaml:11:11: policy name \"login\" is already used by policies[0];"
            + " expected unique names (they name buckets, metrics and headers)");
  }

  @Test
  void match_emptyPaths_isRejected() {
    assertThat(errorsOf("broken/empty-paths.yaml")).containsExactly(
        "empty-paths.yaml:7:14: policies[0].match.paths is empty; expected at least one entry,"
            + " e.g. [\"/api/**\"]");
  }

  @Test
  void match_doubleStarNotLast_isRejectedAtThatPattern() {
    assertThat(errorsOf("broken/double-star-not-last.yaml")).containsExactly(
        "double-star-not-last.yaml:6:38: policies[0].match.paths[1]: invalid path pattern"
            + " \"/api/**/export\": \"**\" is only allowed as the last segment");
  }

  @Test
  void cost_aboveALimitsCapacity_isRejectedAtCost() {
    assertThat(errorsOf("broken/cost-above-capacity.yaml")).containsExactly(
        "cost-above-capacity.yaml:8:11: policy \"reports\": cost 50 is larger than limit"
            + " \"10/second\", which holds at most 10 tokens, so no request could ever be admitted;"
            + " expected a cost of at most 10 or a larger burst");
  }

  @Test
  void duration_withWordUnit_isRejected() {
    assertThat(errorsOf("broken/bad-duration.yaml")).containsExactly(
        "bad-duration.yaml:4:21: gateway.upstream_timeout: bad duration \"30 seconds\"; expected a"
            + " positive whole number with a unit ms, s, m, h or d (e.g. 50ms, 30s, 15m, 24h)");
  }

  @Test
  void version_two_isRejectedAloneWithoutFollowOnErrors() {
    assertThat(errorsOf("broken/wrong-version.yaml")).containsExactly(
        "wrong-version.yaml:1:10: version: unsupported version \"2\"; expected 1");
  }

  @Test
  void by_unknownIdentityKind_isRejectedAtThatEntry() {
    assertThat(errorsOf("broken/bad-identity-kind.yaml")).containsExactly(
        "bad-identity-kind.yaml:7:10: policies[0].by[0]: unknown identity \"apikey\"; expected one"
            + " of ip, api_key, user, session, header:<Name>, global, body:<field>, or several joined"
            + " with + (e.g. ip+body:username)");
  }

  @Test
  void mapping_duplicateKey_isRejectedAtTheSecondKey() {
    assertThat(errorsOf("broken/duplicate-key.yaml")).containsExactly(
        "duplicate-key.yaml:8:5: duplicate field \"name\" in policies[0] (first set at line 5);"
            + " expected each field once");
  }

  @Test
  void yaml_unclosedFlowSequence_isASyntaxErrorWithPosition() {
    assertThat(errorsOf("broken/yaml-syntax.yaml")).containsExactly(
        "yaml-syntax.yaml:6:36: YAML syntax error: expected ',' or ']', but got } (while parsing a"
            + " flow sequence at line 6, column 21)");
  }

  @Test
  void manyProblems_areAllReportedSortedByPosition() {
    assertThat(errorsOf("broken/many-errors.yaml")).containsExactly(
        "many-errors.yaml:3:13: gateway.upstream: bad URL \"ftp://127.0.0.1:5000\": scheme \"ftp\""
            + " is not supported; expected an http:// or https:// URL such as http://127.0.0.1:5000",
        "many-errors.yaml:4:21: gateway.listen: bad address \"127.0.0.1:99999\": port \"99999\" is"
            + " not a number from 0 to 65535; expected host:port (e.g. 127.0.0.1:8080 or [::1]:8080)",
        "many-errors.yaml:6:9: store.type: unknown value \"memroy\"; expected one of memory, redis"
            + " (did you mean \"memory\"?)",
        "many-errors.yaml:7:12: store.timeout: bad duration \"0ms\"; expected a positive whole number"
            + " with a unit ms, s, m, h or d (e.g. 50ms, 30s, 15m, 24h)",
        "many-errors.yaml:11:39: policies[0].match.paths[0]: invalid path pattern \"auth/login\": it"
            + " must start with \"/\"; did you mean \"/auth/login\"?",
        "many-errors.yaml:13:11: policies[0].mode: unknown value \"shadowed\"; expected one of"
            + " enforce, shadow (did you mean \"shadow\"?)",
        "many-errors.yaml:14:5: policies[1].name is required; e.g. name: login",
        "many-errors.yaml:16:11: policies[1].cost: \"many\" is not a whole number; expected a whole"
            + " number of at least 1");
  }

  @Test
  void hs256SecretEnv_unsetVariable_isRejectedNamingIt() {
    assertThat(errorsOf("broken/missing-env.yaml")).containsExactly(
        "missing-env.yaml:5:36: clients.user.jwt.hs256_secret_env: environment variable"
            + " SLUICE_TEST_UNSET_SECRET is not set; expected it to hold the HS256 secret");
  }

  @Test
  void emptyText_isRejectedAtLineOne() {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse("# nothing\n", "e.yaml", ENV::get));
    assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
        "e.yaml:1:1: the policy file is empty; expected a mapping that starts with version: 1");
  }

  @Test
  void missingVersionAndUpstream_areBothReported() {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> ConfigLoader.parse("headers: both\n", "v.yaml", ENV::get));
    assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
        "v.yaml:1:1: version is required; e.g. version: 1",
        "v.yaml:1:1: gateway.upstream or decision.listen is required; e.g. gateway: { upstream: http://127.0.0.1:5000 }"
            + " or decision: { listen: 127.0.0.1:8081 }");
  }

  @Test
  void wrongType_listWhereMappingExpected_saysWhatWasExpected() {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> ConfigLoader.parse("version: 1\ngateway: [a]\n", "t.yaml", ENV::get));
    assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
        "t.yaml:2:10: gateway: expected a mapping, got a list");
  }

  @Test
  void by_apiKeyWithoutClientsApiKey_isRejectedBecauseItCouldNeverIdentify() {
    String yaml = "version: 1\ngateway: { upstream: http://h:1 }\npolicies:\n"
        + "  - name: a\n    match: { paths: [/a] }\n    by: [api_key, ip]\n    limits: [1/second]\n";
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, "k.yaml", ENV::get));
    assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
        "k.yaml:6:10: policies[0].by[0]: identity api_key is not configured, so it would never identify"
            + " a request; expected clients.api_key (e.g. api_key: { header: X-API-Key })");
  }

  @Test
  void methods_invalidToken_isRejectedByCoreAtThatEntry() {
    String yaml = "version: 1\ngateway: { upstream: http://h:1 }\npolicies:\n"
        + "  - name: a\n    match:\n      methods: [GET, \"PO ST\"]\n      paths: [/a]\n    limits: [1/second]\n";
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, "m.yaml", ENV::get));
    assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
        "m.yaml:6:22: policy \"a\": method \"PO ST\" is not a valid HTTP method token; expected e.g."
            + " GET, POST, DELETE");
  }

  @Test
  void ipv6Prefix_outOfRange_isRejected() {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(
        "version: 1\ngateway: { upstream: http://h:1 }\nclients: { ipv6_prefix: 129 }\n", "p.yaml", ENV::get));
    assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
        "p.yaml:3:25: clients.ipv6_prefix: 129 is out of range; expected a whole number from 1 to 128");
  }

  @Test
  void policyName_reservedDefault_isRejectedAtTheName() {
    String yaml = "version: 1\ngateway: { upstream: http://h:1 }\npolicies:\n"
        + "  - name: default\n    match: { paths: [/a] }\n    limits: [1/second]\n";
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, "n.yaml", ENV::get));
    assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
        "n.yaml:4:11: policy name \"default\" is reserved for the defaults section; choose another name");
  }

  // ------------------------------------------------------------------ abuse control (SPEC §7)

  @Test
  void penalty_escalateWithoutX_isRejectedAtTheFactor() {
    assertThat(errorsOf("broken/bad-penalty-escalate.yaml")).containsExactly(
        "bad-penalty-escalate.yaml:8:36: policies[0].penalty.escalate: bad factor \"3\"; expected a whole"
            + " number followed by x, e.g. 2x (each offence doubles the ban) or 1x (no escalation)");
  }

  @Test
  void penalty_badFields_areAllRejectedAtTheirValues() {
    assertThat(errorsOf("broken/bad-penalty.yaml")).containsExactly(
        "bad-penalty.yaml:8:30: policies[0].penalty.max: penalty max 1h is not allowed; expected a"
            + " duration from the ban (2h) to 365d (use block: for permanent refusals)",
        "bad-penalty.yaml:12:14: policies[1].penalty.ban is required; e.g. ban: 15m",
        "bad-penalty.yaml:12:37: policies[1].penalty.scope: unknown value \"global\"; expected one of"
            + " policy, all",
        "bad-penalty.yaml:16:21: policies[2].penalty.ban: bad duration \"15 minutes\"; expected a positive"
            + " whole number with a unit ms, s, m, h or d (e.g. 50ms, 30s, 15m, 24h)",
        "bad-penalty.yaml:16:43: policies[2].penalty.escalate: bad factor \"1.5x\"; expected a whole number"
            + " followed by x, e.g. 2x (each offence doubles the ban) or 1x (no escalation)");
  }

  @Test
  void count_statusBelow100_isRejectedAtThatEntry() {
    assertThat(errorsOf("broken/bad-count-status.yaml")).containsExactly(
        "bad-count-status.yaml:7:28: policies[0].count.status[1]: status \"99\" is not allowed; expected a"
            + " status code from 100 to 599 such as 401, or a class such as 4xx");
  }

  @Test
  void count_class6xx_isRejectedAtThatEntry() {
    assertThat(errorsOf("broken/bad-count-range.yaml")).containsExactly(
        "bad-count-range.yaml:8:23: policies[0].count.status[1]: status \"6xx\" is not allowed; expected a"
            + " status code from 100 to 599 such as 401, or a class such as 4xx");
  }

  @Test
  void concurrency_zero_isRejected() {
    assertThat(errorsOf("broken/zero-concurrency.yaml")).containsExactly(
        "zero-concurrency.yaml:7:18: policies[0].concurrency: 0 is out of range; expected a whole number"
            + " from 1 to 1000000");
  }

  @Test
  void priority_misspelt_isRejectedWithSuggestion() {
    assertThat(errorsOf("broken/unknown-priority.yaml")).containsExactly(
        "unknown-priority.yaml:8:15: policies[0].priority: unknown value \"critcal\"; expected one of"
            + " critical, normal, low (did you mean \"critical\"?)");
  }

  @Test
  void by_bodyFieldWithDot_isRejectedAtThatEntry() {
    assertThat(errorsOf("broken/bad-body-field.yaml")).containsExactly(
        "bad-body-field.yaml:7:10: policies[0].by[0]: invalid identity \"body:user.name\": \"user.name\" is"
            + " not a supported field name; expected body:<field> naming a top-level JSON or form field"
            + " with letters, digits and _-[] (nested fields are not supported), e.g. body:username");
  }

  @Test
  void gateway_zeroMaxInflightAndUnsetAdminTokenEnv_areBothRejected() {
    assertThat(errorsOf("broken/missing-admin-token-env.yaml")).containsExactly(
        "missing-admin-token-env.yaml:4:17: gateway.max_inflight: 0 is out of range; expected a whole"
            + " number from 1 to 1000000",
        "missing-admin-token-env.yaml:5:20: gateway.admin_token_env: environment variable"
            + " SLUICE_TEST_UNSET_ADMIN_TOKEN is not set; expected it to hold the admin API bearer token");
  }

  @Test
  void gateway_shortAdminToken_isRejected() {
    String yaml = "version: 1\ngateway: { upstream: http://h:1, admin_token_env: T }\n";
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> ConfigLoader.parse(yaml, "t.yaml", Map.of("T", "short")::get));
    assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
        "t.yaml:2:51: gateway.admin_token_env: environment variable T holds a token of 5 characters or"
            + " with spaces or control characters; expected at least 16 printable ASCII characters without"
            + " spaces (e.g. the output of openssl rand -hex 32)");
  }

  @Test
  void abuseControl_crossChecks_areAllReported() {
    assertThat(errorsOf("broken/abuse-misc.yaml")).containsExactly(
        "abuse-misc.yaml:5:9: block.ips[0]: invalid CIDR \"203.0.113.0/33\": prefix length 33 is out of"
            + " range 0..32",
        "abuse-misc.yaml:6:13: block.api_keys: identity api_key is not configured, so it would never"
            + " identify a request; expected clients.api_key (e.g. api_key: { header: X-API-Key })",
        "abuse-misc.yaml:10:9: policies[0].by: identity api_key is not configured, so it would never"
            + " identify a request; expected clients.api_key (e.g. api_key: { header: X-API-Key })",
        "abuse-misc.yaml:11:18: policy \"exports\": concurrency cannot be used with mode shadow (a"
            + " concurrency cap has no shadow form: a request over it would have to be both run and"
            + " refused); expected mode enforce, or no concurrency",
        "abuse-misc.yaml:16:22: policies[1].count.status is empty; expected at least one entry, e.g."
            + " [401, 403] or [4xx]");
  }

}
