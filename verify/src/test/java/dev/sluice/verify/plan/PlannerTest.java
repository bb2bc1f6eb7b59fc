package dev.sluice.verify.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlannerTest {
  static final String FILE = String.join("\n",
      "version: 1",
      "gateway: { upstream: http://127.0.0.1:5000 }",
      "clients:",
      "  trusted_proxies: [127.0.0.1/32]",
      "  api_key: { header: X-API-Key }",
      "  user: { jwt: { hs256_secret_env: SECRET } }",
      "exempt: { ips: [10.0.0.0/8] }",
      "defaults: { by: ip, limits: [\"100/minute\"] }",
      "policies:",
      "  - name: search",
      "    match: { paths: [\"/api/search/**\"] }",
      "    by: [api_key, ip]",
      "    limits: [\"10/second burst 20\", \"1000/hour\"]",
      "  - name: login",
      "    match: { methods: [POST], paths: [\"/auth/login\"] }",
      "    by: ip",
      "    count: { status: [401] }",
      "    limits: [\"5/minute\"]",
      "  - name: users",
      "    match: { methods: [GET], paths: [\"/api/users/*\"] }",
      "    by: user",
      "    cost: 2",
      "    limits: [\"6/minute\"]",
      "  - name: everyone",
      "    match: { paths: [\"/api/global\"] }",
      "    by: global",
      "    limits: [\"6/minute\"]",
      "");

  static Plan plan(boolean viaProxy, boolean unsafe) throws Exception {
    SluiceConfig config = ConfigLoader.parse(FILE, "t.yaml", Map.of("SECRET", "s3cret-s3cret-s3cret-s3cret-s3cret")::get);
    return Planner.plan(config, new Planner.Options(viaProxy, unsafe, null));
  }

  static Check check(Plan plan, String id) {
    return plan.checks().stream().filter(c -> c.id().startsWith(id)).findFirst().orElseThrow();
  }

  @Test
  void limit_planHasRouteFreshIdentityAndCapacityPlusTwo() throws Exception {
    Plan plan = plan(true, false);
    Check search = check(plan, "search/1");
    assertThat(search.route()).isEqualTo(new Route("GET", "/api/search/sluice-verify"));
    assertThat(search.recipe().constant()).containsExactly("api_key");
    assertThat(search.recipe().varying()).contains("ip", "user");
    assertThat(search.mustAdmit()).isEqualTo(20);
    assertThat(search.requests()).isEqualTo(22);
    assertThat(check(plan, "search/2").notProvable()).contains("tighter limit");
  }

  @Test
  void cost_dividesTheCapacity_andJwtIsTheIdentity() throws Exception {
    Check users = check(plan(true, false), "users");
    assertThat(users.recipe().constant()).containsExactly("user");
    assertThat(users.mustAdmit()).isEqualTo(3);
    assertThat(users.route().path()).isEqualTo("/api/users/sluice-verify");
  }

  @Test
  void notProvable_countGlobalUnsafe_haveReasons() throws Exception {
    assertThat(check(plan(true, false), "login").notProvable()).contains("--allow-unsafe-methods");
    assertThat(check(plan(true, true), "login").notProvable()).contains("count:");
    assertThat(check(plan(true, false), "everyone").notProvable()).contains("global bucket");
  }

  @Test
  void withoutTrustedProxy_addressesDoNotVary_andExemptIpsAreNotProvable() throws Exception {
    Plan plan = plan(false, false);
    assertThat(check(plan, "search/1").recipe().varying()).doesNotContain("ip");
    assertThat(check(plan, "exempt ips").notProvable()).contains("--via-trusted-proxy");
  }

  @Test
  void bound_isTheSumOfTheChecks() throws Exception {
    Plan plan = plan(true, false);
    assertThat(plan.requestBound()).isEqualTo(plan.checks().stream().mapToInt(Check::requests).sum());
    assertThat(plan.render("http://x")).contains("at most " + plan.requestBound() + " requests");
  }

  @Test
  void hs256Tokens_areSignedAsTheGatewayVerifiesThem() {
    String token = Identities.jwt("sub", "alice", "k".getBytes());
    assertThat(token.split("\\.")).hasSize(3);
  }

  @Test
  void expected_gcraBoundGrowsWithElapsedTime() {
    Expected e = new Expected("s", "10/second burst 20", 10, 1, 20, 1, false, java.util.List.of(), "ietf");
    assertThat(e.admittedBound(0)).isEqualTo(20);
    assertThat(e.admittedBound(500_000_000L)).isEqualTo(25);
    Expected slow = new Expected("s", "3/minute", 3, 60, 3, 1, false, java.util.List.of(), "ietf");
    assertThat(slow.retryAfterMax()).isEqualTo(21);
    assertThat(slow.retryAfterMin(1_000_000_000L)).isEqualTo(18);
  }
}
