package dev.sluice.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.request.RequestView;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code body:<field>} and composite identities, and known sessions (SPEC §7, §2). */
class BodyIdentityTest {
  private static final IdentityResolver RESOLVER = IdentityResolver.builder().build();
  private static final IdentitySpec USERNAME = IdentitySpec.parse("body:username");
  private static final String JSON = "application/json";
  private static final String FORM = "application/x-www-form-urlencoded";

  private static Optional<String> value(IdentityResolver resolver, IdentitySpec spec, RequestView request) {
    return resolver.identify(spec, request, resolver.clientAddress(request)).map(Identity::value);
  }

  private static Optional<String> username(String contentType, String body) {
    return value(RESOLVER, USERNAME, TestRequest.from("203.0.113.7").method("POST").body(contentType, body));
  }

  private static String hash(String normalised) {
    return SecretDigest.shortHash(normalised);
  }

  // ------------------------------------------------------------------ spec

  @ParameterizedTest(name = "{0}")
  @CsvSource({"body:username, username", "body:user_name, user_name", "body:session[email], session[email]",
      "body:X-Login-1, X-Login-1"})
  void parse_bodySpec_roundTrips(String text, String field) {
    IdentitySpec spec = IdentitySpec.parse(text);
    assertThat(spec.kind()).isEqualTo(IdentityKind.BODY);
    assertThat(spec.parameter()).isEqualTo(field);
    assertThat(spec.parts()).isEmpty();
    assertThat(spec.readsBody()).isTrue();
    assertThat(spec).hasToString(text);
  }

  @Test
  void parse_composite_hasPartsInOrderAndRoundTrips() {
    IdentitySpec spec = IdentitySpec.parse("ip+body:username");
    assertThat(spec.kind()).isEqualTo(IdentityKind.COMPOSITE);
    assertThat(spec.parameter()).isNull();
    assertThat(spec.parts()).containsExactly(IdentitySpec.parse("ip"), IdentitySpec.parse("body:username"));
    assertThat(spec.readsBody()).isTrue();
    assertThat(spec).hasToString("ip+body:username");
    assertThat(spec).isEqualTo(IdentitySpec.composite(List.of(IdentitySpec.parse("ip"), USERNAME)));
    assertThat(IdentitySpec.parse("api_key+header:X-Tenant").readsBody()).isFalse();
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiterString = " => ", value = {
      "body: => invalid identity \"body:\": the field name is missing; expected body:<field> naming a top-level JSON or form field with letters, digits and _-[] (nested fields are not supported), e.g. body:username",
      "body:user.name => invalid identity \"body:user.name\": \"user.name\" is not a supported field name; expected body:<field> naming a top-level JSON or form field with letters, digits and _-[] (nested fields are not supported), e.g. body:username",
      "body:user name => invalid identity \"body:user name\": \"user name\" is not a supported field name; expected body:<field> naming a top-level JSON or form field with letters, digits and _-[] (nested fields are not supported), e.g. body:username",
      "ip+ => invalid identity \"ip+\": part 2 is empty; expected identities joined with +, e.g. ip+body:username",
      "+ip => invalid identity \"+ip\": part 1 is empty; expected identities joined with +, e.g. ip+body:username",
      "ip+ip => invalid identity \"ip+ip\": part \"ip\" is listed twice; expected each part once",
      "ip+global => invalid identity \"ip+global\": global cannot be part of a composite identity (it is the same for every request); expected parts such as ip, api_key, user, session, header:<Name>, body:<field>",
      "ip+cookie => unknown identity \"cookie\" in \"ip+cookie\"; expected one of ip, api_key, user, session, header:<Name>, global, body:<field>, or several joined with + (e.g. ip+body:username)",
      "composite => unknown identity \"composite\"; expected one of ip, api_key, user, session, header:<Name>, global, body:<field>, or several joined with + (e.g. ip+body:username)",
      "header:A+B => unknown identity \"B\" in \"header:A+B\"; expected one of ip, api_key, user, session, header:<Name>, global, body:<field>, or several joined with + (e.g. ip+body:username)",
  })
  void parse_invalidBodyOrComposite_hasDesignedMessage(String text, String message) {
    assertThatThrownBy(() -> IdentitySpec.parse(text)).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
  }

  @Test
  void constructor_tooLongFieldName_isRejected() {
    assertThatThrownBy(() -> new IdentitySpec(IdentityKind.BODY, "f".repeat(129)))
        .hasMessageContaining("the field name is longer than 128 characters");
    assertThat(new IdentitySpec(IdentityKind.BODY, "f".repeat(128)).parameter()).hasSize(128);
  }

  @Test
  void constructor_compositeWithoutParts_isRejected() {
    assertThatThrownBy(() -> new IdentitySpec(IdentityKind.COMPOSITE, null))
        .hasMessage("invalid identity \"\": a composite identity needs at least two parts joined with +, e.g. ip+body:username");
    assertThatThrownBy(() -> IdentitySpec.composite(List.of(IdentitySpec.parse("ip"))))
        .hasMessage("invalid identity \"ip\": a composite identity needs at least two parts joined with +, e.g. ip+body:username");
    assertThatThrownBy(() -> new IdentitySpec(IdentityKind.IP, null, List.of(IdentitySpec.parse("ip"))))
        .hasMessage("invalid identity \"ip\": only a composite identity (parts joined with +) has parts");
    assertThatThrownBy(() -> new IdentitySpec(IdentityKind.HEADER, "A+B"))
        .hasMessageContaining("'+' joins the parts of a composite identity");
  }

  // ------------------------------------------------------------------ JSON and form bodies

  @ParameterizedTest(name = "[{index}] {0} | {1}")
  @CsvSource(delimiterString = " | ", nullValues = "NONE", value = {
      // JSON, with and without parameters, any case
      "application/json | {\"username\":\"alice\",\"password\":\"pw\"} | alice",
      "application/json; charset=utf-8 | {\"username\":\"alice\"} | alice",
      "Application/JSON;Charset=\"UTF-8\" | {\"username\":\"alice\"} | alice",
      "application/vnd.api+json | {\"username\":\"alice\"} | alice",
      "application/json | {\"username\": \"  Alice \"} | alice",
      "application/json | {\"username\":\"\\u0041lice\"} | alice",
      "application/json | {\"username\":42} | 42",
      "application/json | {\"username\":42.0} | 42",
      "application/json | {\"username\":4.2e1} | 42",
      "application/json | {\"username\":-0.5} | -0.5",
      "application/json | {\"username\":\"ünïcødé\"} | ünïcødé",
      // JSON without the field or a usable value
      "application/json | {\"user\":\"alice\"} | NONE",
      "application/json | {\"username\":\"\"} | NONE",
      "application/json | {\"username\":\"   \"} | NONE",
      "application/json | {\"username\":null} | NONE",
      "application/json | {\"username\":true} | NONE",
      "application/json | {\"username\":{\"name\":\"alice\"}} | NONE",
      "application/json | {\"username\":[\"alice\"]} | NONE",
      "application/json | {\"profile\":{\"username\":\"alice\"}} | NONE",
      "application/json | [{\"username\":\"alice\"}] | NONE",
      "application/json | \"alice\" | NONE",
      "application/json | {\"username\":\"alice\",\"username\":\"bob\"} | NONE",
      "application/json | {\"username\":\"alice\" | NONE",
      "application/json | {\"username\":\"alice\"} trailing | NONE",
      "application/json | {\"username\":1e999999} | 1e+999999",
      "application/json | {\"username\":12345678901234567890123456789012345678901} | NONE",
      "application/json; charset=iso-8859-1 | {\"username\":\"alice\"} | NONE",
      "text/plain | {\"username\":\"alice\"} | NONE",
      "application/jsonx | {\"username\":\"alice\"} | NONE",
      // forms: percent-decoding, + as space
      "application/x-www-form-urlencoded | username=alice&password=pw | alice",
      "application/x-www-form-urlencoded; charset=UTF-8 | password=pw&username=Alice | alice",
      "application/x-www-form-urlencoded | username=alice%40example.com | alice@example.com",
      "application/x-www-form-urlencoded | username=alice+smith | alice smith",
      "application/x-www-form-urlencoded | user%6Eame=alice | alice",
      "application/x-www-form-urlencoded | username=%C3%BC | ü",
      "application/x-www-form-urlencoded | &&username=alice& | alice",
      "application/x-www-form-urlencoded | password=%ZZ&username=alice | alice",
      // forms without a usable value
      "application/x-www-form-urlencoded | username= | NONE",
      "application/x-www-form-urlencoded | username | NONE",
      "application/x-www-form-urlencoded | user=alice | NONE",
      "application/x-www-form-urlencoded | username=alice&username=bob | NONE",
      "application/x-www-form-urlencoded | username=%E | NONE",
      "application/x-www-form-urlencoded | username=%C3%28 | NONE",
      "application/x-www-form-urlencoded; charset=windows-1252 | username=alice | NONE",
      "multipart/form-data; boundary=x | username=alice | NONE",
  })
  void identify_body_readsTopLevelFieldOrNone(String contentType, String body, String expected) {
    Optional<String> value = username(contentType, body);
    if (expected == null) {
      assertThat(value).isEmpty();
    } else {
      assertThat(value).contains(hash(expected));
    }
  }

  @Test
  void identify_body_neverHoldsTheRawUsername() {
    Optional<String> value = username(JSON, "{\"username\":\"alice@example.com\"}");
    assertThat(value).isPresent();
    assertThat(value.get()).hasSize(16).matches("[0-9a-f]{16}").doesNotContain("alice");
    Optional<String> composite = value(RESOLVER, IdentitySpec.parse("ip+body:username"),
        TestRequest.from("203.0.113.7").body(FORM, "username=alice"));
    assertThat(composite.get()).doesNotContain("alice").isEqualTo("203.0.113.7+" + hash("alice"));
  }

  @Test
  void identify_sameUsernameAsJsonOrForm_sharesIdentity() {
    assertThat(username(JSON, "{\"username\":\"Alice\"}")).isEqualTo(username(FORM, "username=alice"));
  }

  @Test
  void identify_bodyNotBuffered_isNoIdentity() {
    TestRequest request = TestRequest.from("203.0.113.7").header("Content-Type", JSON);
    assertThat(value(RESOLVER, USERNAME, request)).isEmpty();
    assertThat(value(RESOLVER, USERNAME, request.body(new byte[0]))).isEmpty();
  }

  @Test
  void identify_noContentTypeOrTwo_isNoIdentity() {
    byte[] body = "{\"username\":\"alice\"}".getBytes(StandardCharsets.UTF_8);
    assertThat(value(RESOLVER, USERNAME, TestRequest.from("203.0.113.7").body(body))).isEmpty();
    assertThat(value(RESOLVER, USERNAME, TestRequest.from("203.0.113.7").body(body)
        .header("Content-Type", JSON).header("Content-Type", FORM))).isEmpty();
  }

  @Test
  void identify_truncatedBody_isNoIdentity() {
    String full = "{\"username\":\"alice\",\"pad\":\"" + "x".repeat(RequestView.BODY_PREFIX_LIMIT) + "\"}";
    byte[] prefix = java.util.Arrays.copyOf(full.getBytes(StandardCharsets.UTF_8), RequestView.BODY_PREFIX_LIMIT);
    // Content-Length says there is more than the prefix.
    TestRequest declared = TestRequest.from("203.0.113.7").header("Content-Type", JSON)
        .header("Content-Length", Integer.toString(full.length())).body(prefix);
    assertThat(value(RESOLVER, USERNAME, declared)).isEmpty();
    // Chunked (no Content-Length) and the prefix filled the buffer: it may have been cut.
    TestRequest chunked = TestRequest.from("203.0.113.7").header("Content-Type", JSON).body(prefix);
    assertThat(value(RESOLVER, USERNAME, chunked)).isEmpty();
    // A form cut inside the value would give a wrong value ("ali" for "alice"): refused too.
    TestRequest form = TestRequest.from("203.0.113.7").header("Content-Type", FORM)
        .header("Content-Length", "14").body("username=ali".getBytes(StandardCharsets.UTF_8));
    assertThat(value(RESOLVER, USERNAME, form)).isEmpty();
  }

  @Test
  void identify_chunkedBodyShorterThanLimit_isComplete() {
    TestRequest chunked = TestRequest.from("203.0.113.7").header("Content-Type", FORM)
        .header("Transfer-Encoding", "chunked").body("username=alice".getBytes(StandardCharsets.UTF_8));
    assertThat(value(RESOLVER, USERNAME, chunked)).contains(hash("alice"));
  }

  @Test
  void identify_badContentLength_isNoIdentity() {
    byte[] body = "username=alice".getBytes(StandardCharsets.UTF_8);
    for (String length : List.of("abc", "-14", "", "99999999999999999999")) {
      TestRequest request = TestRequest.from("203.0.113.7").header("Content-Type", FORM)
          .header("Content-Length", length).body(body);
      assertThat(value(RESOLVER, USERNAME, request)).as(length).isEmpty();
    }
    TestRequest twice = TestRequest.from("203.0.113.7").header("Content-Type", FORM)
        .header("Content-Length", "14").header("Content-Length", "14").body(body);
    assertThat(value(RESOLVER, USERNAME, twice)).isEmpty();
  }

  @Test
  void identify_compressedBody_isNoIdentity() {
    TestRequest gzip = TestRequest.from("203.0.113.7").body(FORM, "username=alice").header("Content-Encoding", "gzip");
    assertThat(value(RESOLVER, USERNAME, gzip)).isEmpty();
    TestRequest identity = TestRequest.from("203.0.113.7").body(FORM, "username=alice")
        .header("Content-Encoding", "identity");
    assertThat(value(RESOLVER, USERNAME, identity)).contains(hash("alice"));
  }

  @Test
  void identify_invalidUtf8OrBom_handled() {
    byte[] invalid = {'{', '"', 'u', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
    TestRequest bad = TestRequest.from("203.0.113.7").header("Content-Type", JSON)
        .header("Content-Length", Integer.toString(invalid.length)).body(invalid);
    assertThat(value(RESOLVER, IdentitySpec.parse("body:u"), bad)).isEmpty();
    assertThat(username(JSON, "\uFEFF{\"username\":\"alice\"}")).contains(hash("alice"));
  }

  // ------------------------------------------------------------------ composites

  @Test
  void identify_composite_presentOnlyWhenEveryPartIs() {
    IdentitySpec spec = IdentitySpec.parse("ip+body:username");
    TestRequest withBody = TestRequest.from("203.0.113.7").body(JSON, "{\"username\":\"alice\"}");
    assertThat(value(RESOLVER, spec, withBody)).contains("203.0.113.7+" + hash("alice"));
    TestRequest withoutField = TestRequest.from("203.0.113.7").body(JSON, "{\"user\":\"alice\"}");
    assertThat(value(RESOLVER, spec, withoutField)).isEmpty();
    TestRequest notBuffered = TestRequest.from("203.0.113.7");
    assertThat(value(RESOLVER, spec, notBuffered)).isEmpty();
  }

  @Test
  void identify_composite_distinguishesEachPart() {
    IdentitySpec spec = IdentitySpec.parse("ip+body:username");
    String a = value(RESOLVER, spec, TestRequest.from("203.0.113.7").body(FORM, "username=alice")).orElseThrow();
    String b = value(RESOLVER, spec, TestRequest.from("203.0.113.8").body(FORM, "username=alice")).orElseThrow();
    String c = value(RESOLVER, spec, TestRequest.from("203.0.113.7").body(FORM, "username=bob")).orElseThrow();
    assertThat(List.of(a, b, c)).doesNotHaveDuplicates();
  }

  @Test
  void identify_compositeWithIpv6AndHeader_joinsUnambiguously() {
    IdentitySpec spec = IdentitySpec.parse("ip+header:X-Tenant+body:username");
    TestRequest request = TestRequest.from("2001:db8::1").header("X-Tenant", "t1").body(FORM, "username=alice");
    assertThat(value(RESOLVER, spec, request))
        .contains("2001:db8::/64+" + SecretDigest.shortHash("t1") + "+" + hash("alice"));
    Identity identity = RESOLVER.identify(spec, request, RESOLVER.clientAddress(request)).orElseThrow();
    assertThat(identity.key()).startsWith("ip+header:X-Tenant+body:username:");
  }

  @Test
  void identify_compositeOfUserClaimWithPlus_escapesTheJoiner() throws Exception {
    byte[] secret = "s3cret-s3cret-s3cret-s3cret-s3cret".getBytes(StandardCharsets.UTF_8);
    IdentityResolver resolver = IdentityResolver.builder().jwtHs256("Authorization", "sub", secret).build();
    IdentitySpec spec = IdentitySpec.parse("user+ip");
    String token = hs256(secret, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"sub\":\"a+b%\"}");
    TestRequest request = TestRequest.from("203.0.113.7").header("Authorization", "Bearer " + token);
    assertThat(value(resolver, spec, request)).contains("a%2Bb%25+203.0.113.7");
  }

  private static String hs256(byte[] secret, String header, String claims) throws Exception {
    java.util.Base64.Encoder b64 = java.util.Base64.getUrlEncoder().withoutPadding();
    String input = b64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
        + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
    javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
    mac.init(new javax.crypto.spec.SecretKeySpec(secret, "HmacSHA256"));
    return input + "." + b64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
  }

  // ------------------------------------------------------------------ known sessions, supports

  @Test
  void identify_knownSessions_onlyListedSessionsIdentify() {
    IdentityResolver resolver = IdentityResolver.builder().sessionCookie("sid")
        .knownSessions(List.of("s-1", SecretDigest.sha256Hex("s-2"))).build();
    IdentitySpec session = IdentitySpec.parse("session");
    assertThat(value(resolver, session, TestRequest.from("203.0.113.7").header("Cookie", "sid=s-1")))
        .contains(SecretDigest.shortHash("s-1"));
    assertThat(value(resolver, session, TestRequest.from("203.0.113.7").header("Cookie", "sid=s-2")))
        .contains(SecretDigest.shortHash("s-2"));
    assertThat(value(resolver, session, TestRequest.from("203.0.113.7").header("Cookie", "sid=invented")))
        .isEmpty();
    IdentityResolver open = IdentityResolver.builder().sessionCookie("sid").build();
    assertThat(value(open, session, TestRequest.from("203.0.113.7").header("Cookie", "sid=invented")))
        .contains(SecretDigest.shortHash("invented"));
  }

  @Test
  void knownSessions_emptyEntryOrNoCookie_isRejected() {
    assertThatThrownBy(() -> IdentityResolver.builder().knownSessions(List.of("a", " ")))
        .hasMessage("known session #2 is empty");
    assertThatThrownBy(() -> IdentityResolver.builder().knownSessions(List.of("a")).build())
        .hasMessage("known sessions are given but no session cookie; expected session: { cookie: <name>, keys_file: ... }");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"ip, true", "global, true", "header:X-Tenant, true", "body:username, true", "api_key, false",
      "user, false", "session, false", "ip+body:username, true", "ip+api_key, false"})
  void supports_unconfiguredResolver(String spec, boolean supported) {
    assertThat(RESOLVER.supports(IdentitySpec.parse(spec))).isEqualTo(supported);
  }

  @Test
  void supports_configuredSources() {
    IdentityResolver resolver = IdentityResolver.builder().apiKeyQuery("key").sessionCookie("sid")
        .jwtHs256("Authorization", "sub", new byte[] {1}).build();
    for (String spec : List.of("api_key", "session", "user", "api_key+session+user+ip")) {
      assertThat(resolver.supports(IdentitySpec.parse(spec))).as(spec).isTrue();
    }
  }
}
