package dev.sluice.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyTest {
  private static final IdentitySpec IP = new IdentitySpec(IdentityKind.IP, null);
  private static final IdentitySpec API_KEY = new IdentitySpec(IdentityKind.API_KEY, null);
  private static final IdentitySpec GLOBAL = new IdentitySpec(IdentityKind.GLOBAL, null);
  private static final Limit FIVE_PER_MINUTE = new Limit(5, Duration.ofMinutes(1).toNanos(), 5, "5/minute");
  private static final Limit TWENTY_PER_HOUR = new Limit(20, Duration.ofHours(1).toNanos(), 20, "20/hour");

  private static Policy.Builder login() {
    return Policy.builder("login").paths(List.of("/auth/login")).limits(List.of(FIVE_PER_MINUTE));
  }

  private static PolicyConfigException error(Runnable action) {
    return catchThrowableOfType(PolicyConfigException.class, action::run);
  }

  @Test
  void build_limitMadeInCodeBeyondTheEngineBounds_isRejectedLikeTheParserDoes() {
    Limit clamped = new Limit(1, Duration.ofDays(100_000).toNanos(), 1_000_000, null);

    PolicyConfigException e = error(() -> login().limits(List.of(clamped)).build());

    assertThat(e.path()).isEqualTo("limits[0]");
    assertThat(e).hasMessage("policy \"login\": limit \"1/100000 days burst 1000000\": the period 100000d is too"
        + " long, at most 104 days");
    Limit tooFast = new Limit(Long.MAX_VALUE, Duration.ofSeconds(1).toNanos(), 1, null);
    assertThat(error(() -> login().limits(List.of(tooFast)).build())).hasMessageContaining(
        "at most one token a microsecond, so at most 1000000");
  }

  @Test
  void build_onlyRequiredFields_appliesDefaults() {
    Policy policy = login().build();

    assertThat(policy.name()).isEqualTo("login");
    assertThat(policy.methods()).isEmpty();
    assertThat(policy.paths()).containsExactly("/auth/login");
    assertThat(policy.by()).containsExactly(IP);
    assertThat(policy.limits()).containsExactly(FIVE_PER_MINUTE);
    assertThat(policy.algorithm()).isEqualTo(Algorithm.GCRA);
    assertThat(policy.cost()).isEqualTo(1);
    assertThat(policy.mode()).isEqualTo(Mode.ENFORCE);
    assertThat(policy.onError()).isEmpty();
  }

  @Test
  void build_allFields_keepsThem() {
    Policy policy = login()
        .methods(List.of("post", "GET"))
        .by(List.of(API_KEY, IP))
        .limits(List.of(FIVE_PER_MINUTE, TWENTY_PER_HOUR))
        .algorithm(Algorithm.SLIDING_WINDOW)
        .cost(2)
        .mode(Mode.SHADOW)
        .onError(OnError.DENY)
        .build();

    assertThat(policy.methods()).containsExactly("POST", "GET");
    assertThat(policy.by()).containsExactly(API_KEY, IP);
    assertThat(policy.limits()).containsExactly(FIVE_PER_MINUTE, TWENTY_PER_HOUR);
    assertThat(policy.algorithm()).isEqualTo(Algorithm.SLIDING_WINDOW);
    assertThat(policy.cost()).isEqualTo(2);
    assertThat(policy.mode()).isEqualTo(Mode.SHADOW);
    assertThat(policy.onError()).contains(OnError.DENY);
  }

  @Test
  void matcher_methodsAndPaths_matchesLikeTheMatchBlock() {
    Policy policy = login().methods(List.of("GET")).paths(List.of("/api/**")).build();

    assertThat(policy.matcher().matches("GET", "/api/orders/7")).isTrue();
    assertThat(policy.matcher().matches("HEAD", "/api")).isTrue();
    assertThat(policy.matcher().matches("POST", "/api/orders")).isFalse();
    assertThat(policy.matcher().matches("GET", "/other")).isFalse();
  }

  @Test
  void itemName_oneLimit_isThePolicyName() {
    assertThat(login().build().itemName(0)).isEqualTo("login");
  }

  @Test
  void itemName_severalLimits_isNameSlashOneBasedIndex() {
    Policy policy = login().limits(List.of(FIVE_PER_MINUTE, TWENTY_PER_HOUR)).build();

    assertThat(policy.itemName(0)).isEqualTo("login/1");
    assertThat(policy.itemName(1)).isEqualTo("login/2");
  }

  @Test
  void itemName_indexOutOfRange_isRejected() {
    Policy policy = login().build();

    assertThatThrownBy(() -> policy.itemName(1))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessage("policy \"login\" has 1 limit; limit index 1 is out of range");
  }

  @Test
  void builder_blankName_isRejected() {
    PolicyConfigException e = error(() -> Policy.builder(" "));

    assertThat(e.path()).isEqualTo("name");
    assertThat(e).hasMessage("policy name is blank; expected letters, digits, '-', '_' or '.'");
  }

  @Test
  void builder_nameWithSpace_isRejectedNamingTheCharacter() {
    PolicyConfigException e = error(() -> Policy.builder("my policy"));

    assertThat(e.path()).isEqualTo("name");
    assertThat(e).hasMessage("policy name \"my policy\" has a space at index 2; expected only letters,"
        + " digits, '-', '_' or '.' (the name is sent in response headers)");
  }

  @Test
  void builder_nameWithQuote_isRejectedNamingTheCharacter() {
    PolicyConfigException e = error(() -> Policy.builder("a\"b"));

    assertThat(e).hasMessage("policy name \"a\"b\" has '\"' at index 1; expected only letters,"
        + " digits, '-', '_' or '.' (the name is sent in response headers)");
  }

  @Test
  void builder_nameWithNonAsciiLetter_isRejected() {
    PolicyConfigException e = error(() -> Policy.builder("café"));

    assertThat(e).hasMessageStartingWith("policy name \"café\" has 'é' at index 3;");
  }

  @Test
  void builder_nameOfAllowedCharacters_isAccepted() {
    assertThat(Policy.builder("Api-v2_search.x").paths(List.of("/"))
        .limits(List.of(FIVE_PER_MINUTE)).build().name()).isEqualTo("Api-v2_search.x");
  }

  @Test
  void builder_nameTooLong_isRejected() {
    String name = "a".repeat(65);
    PolicyConfigException e = error(() -> Policy.builder(name));

    assertThat(e.path()).isEqualTo("name");
    assertThat(e).hasMessage("policy name \"" + name + "\" is 65 characters long; expected at most 64");
  }

  @Test
  void methods_invalidToken_isRejectedWithItsIndex() {
    PolicyConfigException e = error(() -> Policy.builder("login").methods(List.of("GET", "PO ST")));

    assertThat(e.path()).isEqualTo("match.methods[1]");
    assertThat(e).hasMessage("policy \"login\": method \"PO ST\" is not a valid HTTP method token;"
        + " expected e.g. GET, POST, DELETE");
  }

  @Test
  void paths_empty_isRejected() {
    PolicyConfigException e = error(() -> Policy.builder("login").paths(List.of()));

    assertThat(e.path()).isEqualTo("match.paths");
    assertThat(e).hasMessage("policy \"login\": match.paths is empty; expected at least one path"
        + " pattern such as \"/api/**\"");
  }

  @Test
  void paths_neverSet_isRejectedByBuild() {
    PolicyConfigException e =
        error(() -> Policy.builder("login").limits(List.of(FIVE_PER_MINUTE)).build());

    assertThat(e.path()).isEqualTo("match.paths");
    assertThat(e).hasMessageStartingWith("policy \"login\": match.paths is empty;");
  }

  @Test
  void paths_invalidPattern_isRejectedWithThePatternsMessage() {
    PolicyConfigException e = error(() -> Policy.builder("login").paths(List.of("/ok", "api")));

    assertThat(e.path()).isEqualTo("match.paths[1]");
    assertThat(e).hasMessage("policy \"login\": " + e.getCause().getMessage());
    assertThat(e.getCause()).hasMessageContaining("\"api\"");
  }

  @Test
  void by_empty_isRejected() {
    PolicyConfigException e = error(() -> Policy.builder("login").by(List.of()));

    assertThat(e.path()).isEqualTo("by");
    assertThat(e).hasMessage("policy \"login\": by is empty; expected at least one identity such as"
        + " ip or [api_key, ip]");
  }

  @Test
  void by_duplicateIdentity_isRejected() {
    PolicyConfigException e = error(() -> Policy.builder("login").by(List.of(API_KEY, API_KEY)));

    assertThat(e.path()).isEqualTo("by[1]");
    assertThat(e).hasMessage("policy \"login\": by lists api_key twice; expected each identity once");
  }

  @Test
  void by_identityAfterIp_isRejectedAsUnreachable() {
    PolicyConfigException e = error(() -> Policy.builder("login").by(List.of(IP, API_KEY)));

    assertThat(e.path()).isEqualTo("by[1]");
    assertThat(e).hasMessage("policy \"login\": by lists api_key after ip, which every request has,"
        + " so api_key is never used; expected ip last in the chain");
  }

  @Test
  void by_identityAfterGlobal_isRejectedAsUnreachable() {
    PolicyConfigException e = error(() -> Policy.builder("login").by(List.of(GLOBAL, IP)));

    assertThat(e.path()).isEqualTo("by[1]");
    assertThat(e).hasMessage("policy \"login\": by lists ip after global, which every request has,"
        + " so ip is never used; expected global last in the chain");
  }

  @Test
  void limits_empty_isRejected() {
    PolicyConfigException e = error(() -> Policy.builder("login").limits(List.of()));

    assertThat(e.path()).isEqualTo("limits");
    assertThat(e).hasMessage("policy \"login\": limits is empty; expected at least one limit such as"
        + " \"100/minute\"");
  }

  @Test
  void limits_neverSet_isRejectedByBuild() {
    PolicyConfigException e = error(() -> Policy.builder("login").paths(List.of("/")).build());

    assertThat(e.path()).isEqualTo("limits");
    assertThat(e).hasMessageStartingWith("policy \"login\": limits is empty;");
  }

  @Test
  void limits_sameLimitTwice_isRejected() {
    Limit again = new Limit(5, Duration.ofSeconds(60).toNanos(), 5, "5 per minute");
    PolicyConfigException e =
        error(() -> Policy.builder("login").limits(List.of(FIVE_PER_MINUTE, again)));

    assertThat(e.path()).isEqualTo("limits[1]");
    assertThat(e).hasMessage("policy \"login\": limit \"5 per minute\" is listed twice; expected each"
        + " limit once");
  }

  @Test
  void cost_zero_isRejected() {
    PolicyConfigException e = error(() -> Policy.builder("login").cost(0));

    assertThat(e.path()).isEqualTo("cost");
    assertThat(e).hasMessage("policy \"login\": cost 0 is not allowed; expected a whole number of"
        + " tokens, at least 1");
  }

  @Test
  void build_costAboveALimitsBurst_isRejectedNamingPolicyCostAndLimit() {
    Limit burst3 = new Limit(10, Duration.ofMinutes(1).toNanos(), 3, "10/minute burst 3");
    PolicyConfigException e = error(() -> login().limits(List.of(TWENTY_PER_HOUR, burst3)).cost(4).build());

    assertThat(e.path()).isEqualTo("cost");
    assertThat(e).hasMessage("policy \"login\": cost 4 is larger than limit \"10/minute burst 3\","
        + " which holds at most 3 tokens, so no request could ever be admitted; expected a cost of"
        + " at most 3 or a larger burst");
  }

  @Test
  void build_costEqualToBurst_isAccepted() {
    assertThat(login().cost(5).build().cost()).isEqualTo(5);
  }

  @Test
  void build_slidingWindowWithBurst_isRejected() {
    Limit burst = new Limit(10, Duration.ofSeconds(1).toNanos(), 20, "10/second burst 20");
    PolicyConfigException e =
        error(() -> login().limits(List.of(burst)).algorithm(Algorithm.SLIDING_WINDOW).build());

    assertThat(e.path()).isEqualTo("limits[0]");
    assertThat(e).hasMessage("policy \"login\": limit \"10/second burst 20\" sets a burst, but"
        + " sliding_window admits at most N in any window and has no burst; expected no burst, or"
        + " algorithm gcra");
  }

  @Test
  void build_slidingWindowAboveItsCap_isRejected() {
    Limit huge = new Limit(100_001, Duration.ofHours(1).toNanos(), 100_001, "100001/hour");
    PolicyConfigException e =
        error(() -> login().limits(List.of(huge)).algorithm(Algorithm.SLIDING_WINDOW).build());

    assertThat(e.path()).isEqualTo("limits[0]");
    assertThat(e).hasMessage("policy \"login\": limit \"100001/hour\" allows 100001 requests per"
        + " window, too many for sliding_window; expected at most 100000, or algorithm gcra");
  }

  @Test
  void build_gcraWithTheSameHugeLimit_isAccepted() {
    Limit huge = new Limit(100_001, Duration.ofHours(1).toNanos(), 100_001, "100001/hour");

    assertThat(login().limits(List.of(huge)).build().limits()).containsExactly(huge);
  }

  @Test
  void setter_null_isRejectedNamingTheField() {
    PolicyConfigException e = error(() -> Policy.builder("login").mode(null));

    assertThat(e.path()).isEqualTo("mode");
    assertThat(e).hasMessage("policy \"login\": mode is null; expected a value");
  }

  @Test
  void under_prefix_placesThePathAndKeepsTheMessage() {
    PolicyConfigException e = error(() -> Policy.builder("login").cost(0)).under("policies[2]");

    assertThat(e.path()).isEqualTo("policies[2].cost");
    assertThat(e).hasMessageStartingWith("policy \"login\": cost 0 is not allowed;");
  }

  @Test
  void mode_fromConfigName_roundTripsAndRejectsUnknown() {
    for (Mode mode : Mode.values()) {
      assertThat(Mode.fromConfigName(mode.configName())).isEqualTo(mode);
    }
    assertThatThrownBy(() -> Mode.fromConfigName("Shadow"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown mode \"Shadow\"; expected enforce or shadow");
  }

  @Test
  void onError_fromConfigName_roundTripsAndRejectsUnknown() {
    for (OnError value : OnError.values()) {
      assertThat(OnError.fromConfigName(value.configName())).isEqualTo(value);
    }
    assertThatThrownBy(() -> OnError.fromConfigName("open"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown on_error \"open\"; expected allow or deny");
  }
}
