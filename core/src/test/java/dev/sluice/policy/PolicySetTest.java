package dev.sluice.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicySetTest {
  private static final IdentitySpec IP = new IdentitySpec(IdentityKind.IP, null);
  private static final Limit LIMIT = new Limit(5, Duration.ofMinutes(1).toNanos(), 5, "5/minute");

  private static Policy policy(String name) {
    return Policy.builder(name).paths(List.of("/" + name)).limits(List.of(LIMIT)).build();
  }

  private static PolicyConfigException error(Runnable action) {
    return catchThrowableOfType(PolicyConfigException.class, action::run);
  }

  @Test
  void build_nothingSet_isEmptyAndFailsOpen() {
    PolicySet set = PolicySet.builder().build();

    assertThat(set.policies()).isEmpty();
    assertThat(set.defaults()).isEmpty();
    assertThat(set.exemptIps().isEmpty()).isTrue();
    assertThat(set.exemptApiKeys()).isEmpty();
    assertThat(set.onError()).isEqualTo(OnError.ALLOW);
    assertThat(set.identity()).isNotNull();
  }

  @Test
  void build_policies_keepsFileOrder() {
    PolicySet set = PolicySet.builder().policy(policy("b")).policy(policy("a")).build();

    assertThat(set.policies()).extracting(Policy::name).containsExactly("b", "a");
  }

  @Test
  void defaults_byAndLimits_buildAPolicyNamedDefaultMatchingEverything() {
    PolicySet set = PolicySet.builder().defaults(List.of(IP), List.of(LIMIT)).build();

    Policy defaults = set.defaults().orElseThrow();
    assertThat(defaults.name()).isEqualTo("default");
    assertThat(defaults.by()).containsExactly(IP);
    assertThat(defaults.limits()).containsExactly(LIMIT);
    assertThat(defaults.matcher().matches("DELETE", "/any/path")).isTrue();
    assertThat(defaults.matcher().matches("GET", "/")).isTrue();
  }

  @Test
  void defaults_emptyLimits_isRejectedUnderDefaults() {
    PolicyConfigException e = error(() -> PolicySet.builder().defaults(List.of(IP), List.of()));

    assertThat(e.path()).isEqualTo("defaults.limits");
    assertThat(e).hasMessage("defaults: limits is empty; expected at least one limit such as"
        + " \"100/minute\"");
  }

  @Test
  void defaults_emptyBy_isRejectedUnderDefaults() {
    PolicyConfigException e = error(() -> PolicySet.builder().defaults(List.of(), List.of(LIMIT)));

    assertThat(e.path()).isEqualTo("defaults.by");
    assertThat(e).hasMessage("defaults: by is empty; expected at least one identity such as ip or"
        + " [api_key, ip]");
  }

  @Test
  void build_duplicatePolicyName_isRejectedAtTheSecondOne() {
    PolicyConfigException e = error(() -> PolicySet.builder()
        .policy(policy("login")).policy(policy("search")).policy(policy("login")).build());

    assertThat(e.path()).isEqualTo("policies[2].name");
    assertThat(e).hasMessage("policy name \"login\" is already used by policies[0]; expected unique"
        + " names (they name buckets, metrics and headers)");
  }

  @Test
  void build_policyNamedDefault_isRejectedAsReserved() {
    PolicyConfigException e = error(() -> PolicySet.builder()
        .policy(policy("login")).policy(policy("default")).build());

    assertThat(e.path()).isEqualTo("policies[1].name");
    assertThat(e).hasMessage("policy name \"default\" is reserved for the defaults section; choose"
        + " another name");
  }

  @Test
  void exemptApiKeys_blankKey_isRejectedWithItsIndex() {
    PolicyConfigException e =
        error(() -> PolicySet.builder().exemptApiKeys(List.of("internal-batch-key", " ")));

    assertThat(e.path()).isEqualTo("exempt.api_keys[1]");
    assertThat(e).hasMessage("exempt api key at index 1 is blank; expected the raw key");
  }

  @Test
  void onErrorOf_policyOverride_winsOverTheSetDefault() {
    Policy strict = Policy.builder("strict").paths(List.of("/s")).limits(List.of(LIMIT))
        .onError(OnError.DENY).build();
    Policy plain = policy("plain");
    PolicySet set = PolicySet.builder().policy(strict).policy(plain).onError(OnError.ALLOW).build();

    assertThat(set.onErrorOf(strict)).isEqualTo(OnError.DENY);
    assertThat(set.onErrorOf(plain)).isEqualTo(OnError.ALLOW);
  }

  @Test
  void policy_null_isRejectedWithItsPosition() {
    PolicyConfigException e = error(() -> PolicySet.builder().policy(policy("a")).policy(null));

    assertThat(e.path()).isEqualTo("policies[1]");
    assertThat(e).hasMessage("policy set: policies[1] is null; expected a value");
  }
}
