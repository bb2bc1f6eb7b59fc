package dev.sluice.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IdentityResolverTest {
  private static final IdentitySpec IP = IdentitySpec.parse("ip");
  private static final IdentitySpec API_KEY = IdentitySpec.parse("api_key");
  private static final IdentitySpec SESSION = IdentitySpec.parse("session");
  private static final IdentitySpec GLOBAL = IdentitySpec.parse("global");
  private static final IdentitySpec USER = IdentitySpec.parse("user");
  /** sha256("secret-key-1"). */
  private static final String KEY1_SHA256 = SecretDigest.sha256Hex("secret-key-1");

  private static Optional<Identity> identify(IdentityResolver resolver, IdentitySpec spec, TestRequest request) {
    return resolver.identify(spec, request, resolver.clientAddress(request));
  }

  private static Optional<String> value(IdentityResolver resolver, IdentitySpec spec, TestRequest request) {
    return identify(resolver, spec, request).map(Identity::value);
  }

  // ------------------------------------------------------------------ IdentitySpec

  @ParameterizedTest(name = "{0}")
  @CsvSource({"ip, IP, ", "api_key, API_KEY, ", "user, USER, ", "session, SESSION, ", "global, GLOBAL, ",
      "header:X-Tenant, HEADER, X-Tenant"})
  void parse_validSpec_roundTrips(String text, IdentityKind kind, String parameter) {
    IdentitySpec spec = IdentitySpec.parse(text);
    assertThat(spec.kind()).isEqualTo(kind);
    assertThat(spec.parameter()).isEqualTo(parameter);
    assertThat(spec).hasToString(text);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiterString = " => ", value = {
      "cookie => unknown identity \"cookie\"; expected one of ip, api_key, user, session, header:<Name>, global, body:<field>, or several joined with + (e.g. ip+body:username)",
      "IP => unknown identity \"IP\"; expected one of ip, api_key, user, session, header:<Name>, global, body:<field>, or several joined with + (e.g. ip+body:username)",
      "header: => invalid identity \"header:\": the header name is missing; expected header:<Name> with a name of letters, digits and !#$%&'*-.^_`|~, e.g. header:X-Tenant",
      "header:X Tenant => invalid identity \"header:X Tenant\": \"X Tenant\" is not a valid HTTP header name; expected header:<Name> with a name of letters, digits and !#$%&'*-.^_`|~, e.g. header:X-Tenant",
      "ip:foo => invalid identity \"ip:foo\": \"ip\" takes no parameter; only header:<Name> and body:<field> do",
  })
  void parse_invalidSpec_hasDesignedMessage(String text, String message) {
    assertThatThrownBy(() -> IdentitySpec.parse(text)).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
  }

  @Test
  void parse_empty_listsValidKinds() {
    assertThatThrownBy(() -> IdentitySpec.parse(""))
        .hasMessage("invalid identity \"\": it is empty; expected one of ip, api_key, user, session, header:<Name>, global, body:<field>, or several joined with + (e.g. ip+body:username)");
  }

  // ------------------------------------------------------------------ ip and global

  @ParameterizedTest(name = "{0} /{1} -> {2}")
  @CsvSource({
      "203.0.113.5, 64, 203.0.113.5",
      "::ffff:203.0.113.5, 64, 203.0.113.5",
      "2001:db8:1:2:aaaa:bbbb:cccc:dddd, 64, 2001:db8:1:2::/64",
      "2001:db8:1:2:aaaa:bbbb:cccc:dddd, 48, 2001:db8:1::/48",
      "2001:db8:1:2:aaaa:bbbb:cccc:dddd, 56, 2001:db8:1::/56",
      "2001:db8:1:2ff:aaaa:bbbb:cccc:dddd, 56, 2001:db8:1:200::/56",
      "2001:db8:1:2:aaaa:bbbb:cccc:dddd, 128, 2001:db8:1:2:aaaa:bbbb:cccc:dddd",
      "2001:db8::1, 1, ::/1",
  })
  void ipValue_groupsIpv6ByPrefix(String address, int prefix, String expected) {
    IdentityResolver resolver = IdentityResolver.builder().ipv6Prefix(prefix).build();
    assertThat(resolver.ipValue(IpLiteral.parse(address))).isEqualTo(expected);
    assertThat(value(resolver, IP, TestRequest.from(address))).contains(expected);
  }

  @Test
  void identify_sameIpv6Slash64_sharesIdentity() {
    IdentityResolver resolver = IdentityResolver.builder().build();
    assertThat(identify(resolver, IP, TestRequest.from("2001:db8:1:2::1")))
        .isEqualTo(identify(resolver, IP, TestRequest.from("2001:db8:1:2:ffff::9")));
    assertThat(identify(resolver, IP, TestRequest.from("2001:db8:1:2::1")).orElseThrow().key())
        .isEqualTo("ip:2001:db8:1:2::/64");
  }

  @Test
  void identify_ipBehindTrustedProxy_usesWalkedClient() {
    IdentityResolver resolver = IdentityResolver.builder()
        .trustedProxies(CidrSet.of(List.of(Cidr.parse("10.0.0.0/8")))).build();
    assertThat(value(resolver, IP, TestRequest.from("10.0.0.1").header("X-Forwarded-For", "198.51.100.7")))
        .contains("198.51.100.7");
  }

  // ------------------------------------------------------------------ the address cache

  @Test
  void ipIdentity_sameAddressAgain_isTheSameInstance() {
    IdentityResolver resolver = IdentityResolver.builder().build();
    TestRequest request = TestRequest.from("203.0.113.5");

    Identity first = resolver.ipIdentity(resolver.clientAddress(request));
    Identity second = resolver.ipIdentity(resolver.clientAddress(TestRequest.from("203.0.113.5")));

    assertThat(second).isSameAs(first);
    assertThat(first.key()).isEqualTo("ip:203.0.113.5");
    assertThat(resolver.clientAddress(request)).isSameAs(resolver.clientAddress(request));
  }

  @Test
  void ipIdentity_addressesSharingACacheSlot_eachKeepTheirOwnValue() {
    IdentityResolver resolver = IdentityResolver.builder().build();
    // 0x0A000001 and 0x0A000401 fold to the same slot of the 1024-slot cache.
    String[] addresses = {"10.0.0.1", "10.0.4.1", "10.0.0.1", "10.0.4.1"};
    for (String address : addresses) {
      ClientAddress client = resolver.clientAddress(TestRequest.from(address));
      assertThat(client.forwardedFor()).isEqualTo(address);
      assertThat(resolver.ipIdentity(client).value()).isEqualTo(address);
      assertThat(value(resolver, IP, TestRequest.from(address))).contains(address);
    }
  }

  @Test
  void ipIdentity_ipv6ThroughTheCache_isGroupedButForwardedUngrouped() {
    IdentityResolver resolver = IdentityResolver.builder().ipv6Prefix(64).build();
    for (int round = 0; round < 2; round++) {
      ClientAddress a = resolver.clientAddress(TestRequest.from("2001:db8:1:2::1"));
      ClientAddress b = resolver.clientAddress(TestRequest.from("2001:db8:1:2::2"));
      assertThat(a.forwardedFor()).isEqualTo("2001:db8:1:2::1");
      assertThat(b.forwardedFor()).isEqualTo("2001:db8:1:2::2");
      assertThat(resolver.ipIdentity(a)).isEqualTo(resolver.ipIdentity(b));
      assertThat(resolver.ipIdentity(a).key()).isEqualTo("ip:2001:db8:1:2::/64");
    }
  }

  @Test
  void clientAddress_cachedPeerThenTrustedProxyResolver_stillWalksTheHeader() {
    IdentityResolver resolver = IdentityResolver.builder()
        .trustedProxies(CidrSet.of(List.of(Cidr.parse("10.0.0.0/8")))).build();
    TestRequest direct = TestRequest.from("10.0.0.1");
    TestRequest proxied = TestRequest.from("10.0.0.1").header("X-Forwarded-For", "198.51.100.7");

    assertThat(resolver.clientAddress(direct).forwardedFor()).isEqualTo("10.0.0.1");
    assertThat(resolver.clientAddress(proxied).forwardedFor()).isEqualTo("198.51.100.7, 10.0.0.1");
    assertThat(resolver.ipIdentity(resolver.clientAddress(proxied)).value()).isEqualTo("198.51.100.7");
  }

  @Test
  void isTrustedProxy_onlyAConfiguredProxyWithAHeaderToBelieve() {
    CidrSet proxies = CidrSet.of(List.of(Cidr.parse("10.0.0.0/8")));
    IdentityResolver trusting = IdentityResolver.builder().trustedProxies(proxies).build();
    IdentityResolver headerless = IdentityResolver.builder().trustedProxies(proxies).ipHeader(IpHeader.NONE).build();

    assertThat(trusting.isTrustedProxy(IpLiteral.parse("10.0.0.5"))).isTrue();
    assertThat(trusting.isTrustedProxy(IpLiteral.parse("::ffff:10.0.0.5"))).as("mapped IPv4").isTrue();
    assertThat(trusting.isTrustedProxy(IpLiteral.parse("203.0.113.5"))).isFalse();
    assertThat(headerless.isTrustedProxy(IpLiteral.parse("10.0.0.5"))).as("nothing to believe").isFalse();
    assertThat(IdentityResolver.builder().build().isTrustedProxy(IpLiteral.parse("10.0.0.5"))).isFalse();
  }

  @Test
  void secretValue_isWhatARequestCarryingTheValueIsIdentifiedBy() {
    IdentityResolver resolver = IdentityResolver.builder().apiKeyHeader("X-Api-Key").build();
    TestRequest request = TestRequest.from("192.0.2.1").header("X-Api-Key", " secret-key-1 ");

    assertThat(resolver.secretValue(" secret-key-1 ")).isEqualTo(value(resolver, API_KEY, request).orElseThrow())
        .isEqualTo(KEY1_SHA256.substring(0, 16));
    assertThat(resolver.secretValue("  ")).isNull();
  }

  @Test
  void identify_global_isStar() {
    IdentityResolver resolver = IdentityResolver.builder().build();
    assertThat(identify(resolver, GLOBAL, TestRequest.from("192.0.2.1")).orElseThrow().key()).isEqualTo("global:*");
  }

  @Test
  void ipv6Prefix_outOfRange_isRejected() {
    assertThatThrownBy(() -> IdentityResolver.builder().ipv6Prefix(0)).hasMessage("ipv6_prefix 0 is out of range 1..128");
    assertThatThrownBy(() -> IdentityResolver.builder().ipv6Prefix(129)).hasMessage("ipv6_prefix 129 is out of range 1..128");
  }

  // ------------------------------------------------------------------ api_key

  @Test
  void apiKey_fromHeader_isHashedNeverRaw() {
    IdentityResolver resolver = IdentityResolver.builder().apiKeyHeader("X-API-Key").build();
    TestRequest request = TestRequest.from("192.0.2.1").header("x-api-key", " secret-key-1 ");
    assertThat(resolver.rawApiKey(request)).contains("secret-key-1");
    Identity identity = identify(resolver, API_KEY, request).orElseThrow();
    assertThat(identity.value()).isEqualTo(KEY1_SHA256.substring(0, 16)).hasSize(16).doesNotContain("secret");
    assertThat(identity.key()).isEqualTo("api_key:" + KEY1_SHA256.substring(0, 16));
  }

  @Test
  void apiKey_absentOrEmpty_isNoIdentity() {
    IdentityResolver resolver = IdentityResolver.builder().apiKeyHeader("X-API-Key").build();
    assertThat(identify(resolver, API_KEY, TestRequest.from("192.0.2.1"))).isEmpty();
    assertThat(identify(resolver, API_KEY, TestRequest.from("192.0.2.1").header("X-API-Key", "  "))).isEmpty();
    assertThat(identify(IdentityResolver.builder().build(), API_KEY,
        TestRequest.from("192.0.2.1").header("X-API-Key", "k"))).as("api_key not configured").isEmpty();
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', nullValues = "NULL", value = {
      "api_key=secret-key-1|secret-key-1",
      "a=1&api_key=secret-key-1&b=2|secret-key-1",
      "api_key=a%2Bb%20c+d|a+b c d",
      "api%5Fkey=x|x",
      "api_key=%C3%A9|é",
      "api_key=first&api_key=second|first",
      "api_key=%zz&api_key=good|good",
      "api_key=%C3|NULL",
      "api_key=|NULL",
      "api_key|NULL",
      "other=1|NULL",
      "|NULL",
  })
  void rawApiKey_fromQuery_isPercentDecoded(String query, String expected) {
    IdentityResolver resolver = IdentityResolver.builder().apiKeyQuery("api_key").build();
    assertThat(resolver.rawApiKey(TestRequest.from("192.0.2.1").query(query))).isEqualTo(Optional.ofNullable(expected));
  }

  @Test
  void apiKey_withKnownKeys_unknownKeyIsNoIdentity() {
    IdentityResolver resolver = IdentityResolver.builder().apiKeyHeader("X-API-Key")
        .knownApiKeys(List.of("raw-known-key", KEY1_SHA256)).build();
    assertThat(value(resolver, API_KEY, TestRequest.from("192.0.2.1").header("X-API-Key", "raw-known-key")))
        .contains(SecretDigest.sha256Hex("raw-known-key").substring(0, 16));
    assertThat(value(resolver, API_KEY, TestRequest.from("192.0.2.1").header("X-API-Key", "secret-key-1")))
        .as("sha256 entry").contains(KEY1_SHA256.substring(0, 16));
    assertThat(identify(resolver, API_KEY, TestRequest.from("192.0.2.1").header("X-API-Key", "invented")))
        .isEmpty();
    assertThat(identify(resolver, API_KEY, TestRequest.from("192.0.2.1").header("X-API-Key", KEY1_SHA256)))
        .as("the digest itself is not a key").isEmpty();
    assertThat(resolver.rawApiKey(TestRequest.from("192.0.2.1").header("X-API-Key", "invented")))
        .as("raw key is still reported for block lists").contains("invented");
  }

  @Test
  void apiKey_withoutKnownKeys_anyKeyIdentifies() {
    IdentityResolver resolver = IdentityResolver.builder().apiKeyHeader("X-API-Key").build();
    assertThat(identify(resolver, API_KEY, TestRequest.from("192.0.2.1").header("X-API-Key", "invented"))).isPresent();
  }

  @Test
  void apiKey_builderErrors_areDesigned() {
    assertThatThrownBy(() -> IdentityResolver.builder().apiKeyHeader("X-API-Key").apiKeyQuery("k"))
        .hasMessage("api_key takes either a header or a query parameter, not both (header \"X-API-Key\" is already set)");
    assertThatThrownBy(() -> IdentityResolver.builder().apiKeyHeader("X API"))
        .hasMessage("api_key.header \"X API\" is not a valid HTTP header name; expected letters, digits and !#$%&'*+-.^_`|~");
    assertThatThrownBy(() -> IdentityResolver.builder().knownApiKeys(List.of("a", " ")))
        .hasMessage("known API key #2 is empty");
  }

  // ------------------------------------------------------------------ session and header

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', nullValues = "NULL", value = {
      "session=abc|abc",
      "theme=dark; session=abc; other=1|abc",
      "theme=dark;session=abc|abc",
      "session=\"abc\"|abc",
      "xsession=abc; session=def|def",
      "Session=abc|NULL",
      "session=|NULL",
      "theme=dark|NULL",
      "session|NULL",
  })
  void session_cookieParsing(String cookieHeader, String expected) {
    IdentityResolver resolver = IdentityResolver.builder().sessionCookie("session").build();
    Optional<String> expectedValue = Optional.ofNullable(expected).map(SecretDigest::shortHash);
    assertThat(value(resolver, SESSION, TestRequest.from("192.0.2.1").header("Cookie", cookieHeader)))
        .isEqualTo(expectedValue);
  }

  @Test
  void session_acrossCookieLines_firstWins() {
    IdentityResolver resolver = IdentityResolver.builder().sessionCookie("session").build();
    TestRequest request = TestRequest.from("192.0.2.1").header("Cookie", "a=1").header("Cookie", "session=s2; session=s3");
    assertThat(value(resolver, SESSION, request)).contains(SecretDigest.shortHash("s2"));
    assertThat(value(IdentityResolver.builder().build(), SESSION, request)).as("not configured").isEmpty();
  }

  @Test
  void header_valueIsHashed_absentIsNoIdentity() {
    IdentityResolver resolver = IdentityResolver.builder().build();
    IdentitySpec tenant = IdentitySpec.parse("header:X-Tenant");
    Identity identity = identify(resolver, tenant, TestRequest.from("192.0.2.1").header("x-tenant", "acme")).orElseThrow();
    assertThat(identity.value()).isEqualTo(SecretDigest.shortHash("acme"));
    assertThat(identity.key()).isEqualTo("header:X-Tenant:" + SecretDigest.shortHash("acme"));
    assertThat(identify(resolver, tenant, TestRequest.from("192.0.2.1"))).isEmpty();
    assertThat(identify(resolver, tenant, TestRequest.from("192.0.2.1").header("X-Tenant", ""))).isEmpty();
  }

  @Test
  void user_notConfigured_isNoIdentity() {
    IdentityResolver resolver = IdentityResolver.builder().build();
    assertThat(identify(resolver, USER, TestRequest.from("192.0.2.1").header("Authorization", "Bearer x.y.z"))).isEmpty();
  }

  @Test
  void shortHash_isSha256Prefix() {
    assertThat(SecretDigest.shortHash("abc")).isEqualTo("ba7816bf8f01cfea");
  }
}
