package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 9: {@code check} rejects what {@code serve} cannot run (one validation path, positioned
 * errors naming the bound), warns about trusted proxy ranges that hold every client, and reads the
 * slow-client fields of SPEC §12.
 */
class ConfigBoundsTest {
  private static final String HEAD = "version: 1\n";

  private static List<String> errors(String yaml) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, "b.yaml", k -> null));
    assertThat(e).as("expected the file to be rejected").isNotNull();
    return e.errors().stream().map(ConfigError::toString).toList();
  }

  private static SluiceConfig parse(String yaml) throws ConfigException {
    return ConfigLoader.parse(yaml, "b.yaml", k -> null);
  }

  @Test
  void upstreamTimeout_beyondLongNanoseconds_isRejectedAtTheValue() {
    assertThat(errors(HEAD + "gateway: { upstream: http://127.0.0.1:5000, upstream_timeout: 106751992d }\n"))
        .containsExactly("b.yaml:2:63: gateway.upstream_timeout: 106751992d is too long; expected at most 24h");
  }

  @Test
  void storeTimeout_overAMinute_isRejectedAtTheValue() {
    assertThat(errors(HEAD + "gateway: { upstream: http://127.0.0.1:5000 }\nstore: { timeout: 2m }\n"))
        .containsExactly("b.yaml:3:19: store.timeout: 2m is too long; expected at most 1m");
  }

  @Test
  void penaltyBan_overAYear_isRejectedAtTheBan() {
    assertThat(errors(HEAD + "gateway: { upstream: http://127.0.0.1:5000 }\npolicies:\n  - name: a\n"
        + "    match: { paths: [\"/a\"] }\n    limits: [\"5/minute\"]\n    penalty: { ban: 999999999999d }\n"))
        .containsExactly("b.yaml:7:21: policies[0].penalty.ban: 999999999999d is too long; expected at most 365d");
  }

  @Test
  void limit_clampedAtRunTime_isRejectedAtThePeriod() {
    assertThat(errors(HEAD + "gateway: { upstream: http://127.0.0.1:5000 }\n"
        + "defaults: { limits: [\"1/100000 days burst 1000000\"] }\n"))
        .containsExactly("b.yaml:3:25: defaults.limits[0]: invalid limit \"1/100000 days burst 1000000\": the"
            + " period \"100000 days\" is too long, at most 104 days");
  }

  @Test
  void limit_moreThanOneTokenAMicrosecond_isRejectedAtTheQuantity() {
    assertThat(errors(HEAD + "gateway: { upstream: http://127.0.0.1:5000 }\n"
        + "defaults: { limits: [\"9223372036854775807/second\"] }\n"))
        .containsExactly("b.yaml:3:23: defaults.limits[0]: invalid limit \"9223372036854775807/second\": the"
            + " quantity 9223372036854775807 is too large for a period of second: at most one token a"
            + " microsecond, so at most 1000000");
  }

  @Test
  void limit_bucketBeyond104Days_isRejectedAtTheBurst() {
    assertThat(errors(HEAD + "gateway: { upstream: http://127.0.0.1:5000 }\n"
        + "defaults: { limits: [\"1/day burst 200\"] }\n"))
        .containsExactly("b.yaml:3:35: defaults.limits[0]: invalid limit \"1/day burst 200\": the burst 200 is"
            + " too large: a bucket of 200 tokens takes 200d to refill, at most 2^53 ns (about 104 days);"
            + " expected a burst of at most 104");
  }

  @ParameterizedTest
  @ValueSource(strings = {"0.0.0.0/0", "::/0", "0.0.0.0/7", "2000::/3"})
  void trustedProxies_wideRange_warnsThatClientsChooseTheirIdentity(String cidr) throws ConfigException {
    SluiceConfig config = parse(HEAD + "gateway: { upstream: http://127.0.0.1:5000 }\n"
        + "clients: { trusted_proxies: [10.0.0.5/32, \"" + cidr + "\"] }\n");

    assertThat(config.warnings()).hasSize(1);
    assertThat(config.warnings().get(0))
        .startsWith("clients.trusted_proxies lists " + cidr + ", which covers ")
        .contains("any client in it is trusted to report the client address, so it can send its own"
            + " x-forwarded-for and choose its identity, escaping ip limits and bans");
  }

  @Test
  void trustedProxies_everyAddress_namesItPlainly() throws ConfigException {
    SluiceConfig config = parse(HEAD + "gateway: { upstream: http://127.0.0.1:5000 }\n"
        + "clients: { trusted_proxies: [\"0.0.0.0/0\"], ip_header: forwarded }\n");
    assertThat(config.warnings()).containsExactly("clients.trusted_proxies lists 0.0.0.0/0, which covers every"
        + " IPv4 address: any client in it is trusted to report the client address, so it can send its own"
        + " forwarded and choose its identity, escaping ip limits and bans and claiming exempt addresses;"
        + " list only your proxies' addresses (e.g. 10.0.0.5/32 or 10.0.0.0/8)");
  }

  @ParameterizedTest
  @ValueSource(strings = {"10.0.0.0/8", "192.168.0.0/16", "fc00::/7", "10.0.0.5/32"})
  void trustedProxies_privateRanges_doNotWarn(String cidr) throws ConfigException {
    assertThat(parse(HEAD + "gateway: { upstream: http://127.0.0.1:5000 }\n"
        + "clients: { trusted_proxies: [\"" + cidr + "\"] }\n").warnings()).isEmpty();
  }

  @Test
  void edgeFields_absent_takeTheDefaults() throws ConfigException {
    EdgeSettings edge = parse(HEAD + "gateway: { upstream: http://127.0.0.1:5000 }\n").gateway().edge();
    assertThat(edge).isEqualTo(new EdgeSettings(Duration.ofSeconds(10), Duration.ofSeconds(30), 10_000, 100));
  }

  @Test
  void edgeFields_written_areRead() throws ConfigException {
    EdgeSettings edge = parse(HEAD + "gateway: { upstream: http://127.0.0.1:5000, header_timeout: 200ms,"
        + " body_timeout: 5s, max_connections: 500, max_connections_per_ip: 20 }\n").gateway().edge();
    assertThat(edge).isEqualTo(new EdgeSettings(Duration.ofMillis(200), Duration.ofSeconds(5), 500, 20));
  }

  @Test
  void edgeFields_outOfRange_areRejectedAtTheirValues() {
    assertThat(errors(HEAD + "gateway:\n  upstream: http://127.0.0.1:5000\n  header_timeout: 2h\n"
        + "  max_connections: 50\n  max_connections_per_ip: 60\n")).containsExactly(
        "b.yaml:4:19: gateway.header_timeout: 2h is too long; expected at most 1h",
        "b.yaml:6:27: gateway.max_connections_per_ip: 60 is out of range; expected a whole number from 1 to 50");
  }

  @Test
  void proxyProtocol_isOffByDefault_readWhenWritten_andOnlyABoolean() throws ConfigException {
    assertThat(parse(HEAD + "gateway: { upstream: http://127.0.0.1:5000 }\n").gateway().edge().proxyProtocol())
        .isFalse();
    assertThat(parse(HEAD + "gateway: { upstream: http://127.0.0.1:5000, proxy_protocol: true }\n")
        .gateway().edge().proxyProtocol()).isTrue();
    assertThat(errors(HEAD + "gateway:\n  upstream: http://127.0.0.1:5000\n  proxy_protocol: v2\n"))
        .singleElement().asString().startsWith("b.yaml:4:19: gateway.proxy_protocol: ");
  }

  @Test
  void upstreamList_isReadInOrder_firstIsTheUpstream_emptyOrRepeatedIsAnError() throws ConfigException {
    GatewaySettings g = parse(HEAD + "gateway: { upstream: [http://10.0.0.5:5000, http://10.0.0.6:5000] }\n").gateway();
    assertThat(g.upstream()).isEqualTo(java.net.URI.create("http://10.0.0.5:5000"));
    assertThat(g.edge().upstreams()).containsExactly(
        java.net.URI.create("http://10.0.0.5:5000"), java.net.URI.create("http://10.0.0.6:5000"));
    assertThat(parse(HEAD + "gateway: { upstream: http://10.0.0.5:5000 }\n").gateway().edge().upstreams()).isEmpty();
    assertThat(errors(HEAD + "gateway:\n  upstream: []\n")).singleElement().asString()
        .startsWith("b.yaml:3:13: gateway.upstream: the list is empty");
    assertThat(errors(HEAD + "gateway:\n  upstream: [http://a:1, http://a:1]\n")).singleElement().asString()
        .startsWith("b.yaml:3:26: gateway.upstream: http://a:1 is listed twice");
  }
}
