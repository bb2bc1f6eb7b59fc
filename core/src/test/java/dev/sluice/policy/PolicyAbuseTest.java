package dev.sluice.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sluice.identity.Cidr;
import dev.sluice.identity.CidrSet;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The policy model's abuse-control fields (SPEC §7): count, penalty, concurrency, priority, block. */
class PolicyAbuseTest {
  private static final Limit FIVE = new Limit(5, Duration.ofMinutes(15).toNanos(), 5, "5/15 minutes");

  private static Policy.Builder login() {
    return Policy.builder("login").paths(List.of("/auth/login")).limits(List.of(FIVE));
  }

  private static PolicyConfigException error(Runnable action) {
    return catchThrowableOfType(PolicyConfigException.class, action::run);
  }

  @Test
  void build_withoutAbuseFields_usesNone() {
    Policy policy = login().build();

    assertThat(policy.count()).isEmpty();
    assertThat(policy.counts(200)).isTrue();
    assertThat(policy.penalty()).isEmpty();
    assertThat(policy.concurrency()).isZero();
    assertThat(policy.priority()).isEqualTo(Priority.NORMAL);
    assertThat(policy.usesAbuseControl()).isFalse();
  }

  @Test
  void build_allAbuseFields_keepsThem() {
    Penalty penalty = new Penalty(Duration.ofMinutes(15), 2, Duration.ofHours(24), Penalty.Scope.ALL);
    Policy policy = login()
        .count(List.of(StatusRange.of(401), StatusRange.parse("403"), StatusRange.of(401)))
        .penalty(penalty)
        .concurrency(2)
        .priority(Priority.CRITICAL)
        .build();

    assertThat(policy.count()).containsExactly(StatusRange.of(401), StatusRange.of(403));
    assertThat(policy.counts(401)).isTrue();
    assertThat(policy.counts(403)).isTrue();
    assertThat(policy.counts(200)).isFalse();
    assertThat(policy.counts(404)).isFalse();
    assertThat(policy.penalty()).contains(penalty);
    assertThat(policy.concurrency()).isEqualTo(2);
    assertThat(policy.priority()).isEqualTo(Priority.CRITICAL);
    assertThat(policy.usesAbuseControl()).isTrue();
  }

  @Test
  void statusRange_parse_acceptsStatusesAndClasses() {
    assertThat(StatusRange.parse("4xx")).isEqualTo(new StatusRange(400, 499));
    assertThat(StatusRange.parse("5XX")).isEqualTo(new StatusRange(500, 599));
    assertThat(StatusRange.parse("100")).isEqualTo(new StatusRange(100, 100));
    assertThat(StatusRange.parse("599")).isEqualTo(new StatusRange(599, 599));
    assertThat(StatusRange.parse("4xx").matches(429)).isTrue();
    assertThat(StatusRange.parse("4xx").matches(500)).isFalse();
    assertThat(StatusRange.parse("4xx")).hasToString("4xx");
    assertThat(StatusRange.parse("401")).hasToString("401");
  }

  @Test
  void statusRange_parse_badText_isRejectedWithDesignedMessage() {
    for (String bad : new String[] {"600", "099", "6xx", "4x", "abc", "", "40", "4000"}) {
      assertThatThrownBy(() -> StatusRange.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("status \"" + bad + "\" is not allowed; expected a status code from 100 to 599"
              + " such as 401, or a class such as 4xx");
    }
    assertThatThrownBy(() -> StatusRange.of(99))
        .hasMessage("status \"99\" is not allowed; expected a status code from 100 to 599 such as 401,"
            + " or a class such as 4xx");
    assertThatThrownBy(() -> new StatusRange(500, 400))
        .hasMessage("status range 500..400 is not allowed; expected statuses from 100 to 599, lowest first");
  }

  @Test
  void count_empty_isRejected() {
    PolicyConfigException e = error(() -> login().count(List.of()));

    assertThat(e.path()).isEqualTo("count.status");
    assertThat(e).hasMessage("policy \"login\": count.status is empty; expected at least one status"
        + " such as 401 or 4xx");
  }

  @Test
  void penalty_banForOffences_escalatesAndCapsAtMax() {
    Penalty penalty = new Penalty(Duration.ofMinutes(15), 2, Duration.ofHours(24), Penalty.Scope.POLICY);

    assertThat(penalty.banFor(1)).isEqualTo(Duration.ofMinutes(15));
    assertThat(penalty.banFor(2)).isEqualTo(Duration.ofMinutes(30));
    assertThat(penalty.banFor(3)).isEqualTo(Duration.ofMinutes(60));
    assertThat(penalty.banFor(7)).isEqualTo(Duration.ofMinutes(960));
    assertThat(penalty.banFor(8)).isEqualTo(Duration.ofHours(24));
    assertThat(penalty.banFor(Long.MAX_VALUE)).isEqualTo(Duration.ofHours(24));
    assertThat(Penalty.of(Duration.ofMinutes(5)).banFor(9)).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void penalty_hugeEscalation_saturatesAtMaxWithoutOverflow() {
    Penalty penalty = new Penalty(Duration.ofSeconds(1), Long.MAX_VALUE, Duration.ofDays(365), Penalty.Scope.POLICY);

    assertThat(penalty.banFor(1)).isEqualTo(Duration.ofSeconds(1));
    assertThat(penalty.banFor(2)).isEqualTo(Duration.ofDays(365));
  }

  @Test
  void penalty_invalidFields_areRejectedWithPathAndMessage() {
    PolicyConfigException zero = error(() -> new Penalty(Duration.ZERO, 2, Duration.ofHours(1), Penalty.Scope.POLICY));
    assertThat(zero.path()).isEqualTo("penalty.ban");
    assertThat(zero).hasMessage("penalty ban 0s is not allowed; expected a positive duration of at most 365d"
        + " such as 15m (use block: for permanent refusals)");

    PolicyConfigException escalate = error(() -> new Penalty(Duration.ofMinutes(1), 0, Duration.ofHours(1), Penalty.Scope.POLICY));
    assertThat(escalate.path()).isEqualTo("penalty.escalate");
    assertThat(escalate).hasMessage("penalty escalate 0x is not allowed; expected a factor of at least 1x"
        + " (1x = every ban as long as the first, 2x = each offence doubles it)");

    PolicyConfigException max = error(() -> new Penalty(Duration.ofMinutes(15), 2, Duration.ofMinutes(10), Penalty.Scope.POLICY));
    assertThat(max.path()).isEqualTo("penalty.max");
    assertThat(max).hasMessage("penalty max 10m is not allowed; expected a duration from the ban (15m)"
        + " to 365d (use block: for permanent refusals)");

    PolicyConfigException banTooLong = error(() -> new Penalty(Duration.ofDays(400), 2, Duration.ofDays(400), Penalty.Scope.POLICY));
    assertThat(banTooLong.path()).isEqualTo("penalty.ban");
    assertThat(banTooLong).hasMessage("penalty ban 400d is not allowed; expected a positive duration of at most 365d"
        + " such as 15m (use block: for permanent refusals)");

    PolicyConfigException tooLong = error(() -> new Penalty(Duration.ofMinutes(15), 2, Duration.ofDays(366), Penalty.Scope.POLICY));
    assertThat(tooLong.path()).isEqualTo("penalty.max");

    PolicyConfigException scope = error(() -> new Penalty(Duration.ofMinutes(15), 2, Duration.ofHours(1), null));
    assertThat(scope.path()).isEqualTo("penalty.scope");
  }

  @Test
  void enums_fromConfigName_roundTripAndRejectUnknown() {
    for (Priority p : Priority.values()) {
      assertThat(Priority.fromConfigName(p.configName())).isEqualTo(p);
    }
    for (Penalty.Scope s : Penalty.Scope.values()) {
      assertThat(Penalty.Scope.fromConfigName(s.configName())).isEqualTo(s);
    }
    assertThatThrownBy(() -> Priority.fromConfigName("urgent"))
        .hasMessage("unknown priority \"urgent\"; expected critical, normal or low");
    assertThatThrownBy(() -> Penalty.Scope.fromConfigName("global"))
        .hasMessage("unknown penalty scope \"global\"; expected policy or all");
    assertThat(Priority.CRITICAL.higherThan(Priority.NORMAL)).isTrue();
    assertThat(Priority.LOW.higherThan(Priority.NORMAL)).isFalse();
  }

  @Test
  void concurrency_belowOne_isRejected() {
    PolicyConfigException e = error(() -> login().concurrency(0));

    assertThat(e.path()).isEqualTo("concurrency");
    assertThat(e).hasMessage("policy \"login\": concurrency 0 is not allowed; expected at least 1"
        + " in-flight request per identity");
  }

  @Test
  void build_concurrencyInShadowMode_isRejected() {
    PolicyConfigException e = error(() -> login().concurrency(2).mode(Mode.SHADOW).build());

    assertThat(e.path()).isEqualTo("concurrency");
    assertThat(e).hasMessage("policy \"login\": concurrency cannot be used with mode shadow (a"
        + " concurrency cap has no shadow form: a request over it would have to be both run and"
        + " refused); expected mode enforce, or no concurrency");
  }

  @Test
  void build_countAndPenaltyInShadowMode_areAllowed() {
    Policy policy = login().mode(Mode.SHADOW).count(List.of(StatusRange.parse("4xx")))
        .penalty(Penalty.of(Duration.ofMinutes(1))).build();

    assertThat(policy.mode()).isEqualTo(Mode.SHADOW);
    assertThat(policy.penalty()).isPresent();
  }

  @Test
  void policySet_block_keepsListsAndRejectsBlankKeys() throws Exception {
    PolicySet set = PolicySet.builder()
        .blockIps(CidrSet.of(List.of(Cidr.parse("203.0.113.0/24"))))
        .blockApiKeys(List.of("leaked-key-123"))
        .build();

    assertThat(set.blockIps().contains(InetAddress.getByName("203.0.113.9"))).isTrue();
    assertThat(set.blockApiKeys()).isEqualTo(Set.of("leaked-key-123"));
    PolicyConfigException e = error(() -> PolicySet.builder().blockApiKeys(List.of("ok", " ")));
    assertThat(e.path()).isEqualTo("block.api_keys[1]");
    assertThat(e).hasMessage("blocked api key at index 1 is blank; expected the raw key");
  }

  @Test
  void needsBody_onlyForMatchedPoliciesWithBodyIdentities() {
    PolicySet set = PolicySet.builder()
        .policy(login().methods(List.of("POST"))
            .by(List.of(IdentitySpec.parse("ip+body:username"))).build())
        .policy(Policy.builder("signup").paths(List.of("/auth/signup")).limits(List.of(FIVE))
            .by(List.of(IdentitySpec.parse("body:email"), IdentitySpec.parse("ip"))).build())
        .policy(Policy.builder("api").paths(List.of("/api/**")).limits(List.of(FIVE)).build())
        .build();

    assertThat(set.needsBody("POST", "/auth/login")).isTrue();
    assertThat(set.needsBody("GET", "/auth/login")).isFalse();
    assertThat(set.needsBody("POST", "/auth/signup")).isTrue();
    assertThat(set.needsBody("POST", "/api/x")).isFalse();
    assertThat(set.needsBody("POST", "/other")).isFalse();
  }

  @Test
  void needsBody_defaultsWithBodyIdentity_appliesOnlyWhenNothingMatched() {
    PolicySet set = PolicySet.builder()
        .defaults(List.of(IdentitySpec.parse("body:username")), List.of(FIVE))
        .policy(Policy.builder("api").paths(List.of("/api/**")).limits(List.of(FIVE)).build())
        .build();

    assertThat(set.needsBody("POST", "/other")).isTrue();
    assertThat(set.needsBody("POST", "/api/x")).isFalse();
    assertThat(PolicySet.builder().build().needsBody("POST", "/x")).isFalse();
  }
}
