package dev.sluice.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Whatever a client sends as a body, a body identity is a short hash or absent, never an exception. */
class BodyIdentityProperties {
  private static final IdentityResolver RESOLVER = IdentityResolver.builder().build();
  private static final List<IdentitySpec> SPECS = List.of(
      IdentitySpec.parse("body:username"), IdentitySpec.parse("ip+body:username"), IdentitySpec.parse("body:u"));

  @Provide
  Arbitrary<String> contentTypes() {
    return Arbitraries.of("application/json", "application/json; charset=utf-8", "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=\"", "application/", ";", "", "application/vnd.x+json; charset=",
        "text/plain");
  }

  /** Fragments of JSON and form syntax glued at random, so the readers see near-valid input. */
  @Provide
  Arbitrary<String> nearBodies() {
    return Arbitraries.of("{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "d83d", "\"username\"", "\"u\"", "username",
            "=", "&", "%", "%4", "%C3", "%28", "+", "alice", "1", "1e99999", "-", ".", "true", "null", " ", "\u0000",
            "\uD83D", "ü")
        .list().ofMaxSize(40).map(parts -> String.join("", parts));
  }

  @Property(tries = 3000)
  void identify_arbitraryBytes_neverThrows(@ForAll("contentTypes") String type, @ForAll byte[] body,
      @ForAll boolean withLength) {
    check(type, body, withLength);
  }

  @Property(tries = 3000)
  void identify_nearValidBodies_neverThrows(@ForAll("contentTypes") String type, @ForAll("nearBodies") String body,
      @ForAll boolean withLength) {
    check(type, body.getBytes(StandardCharsets.UTF_8), withLength);
  }

  @Property(tries = 500)
  void identify_arbitraryJsonUsername_isAlwaysAShortHash(@ForAll String username) {
    String escaped = username.replace("\\", "\\\\").replace("\"", "\\\"");
    StringBuilder json = new StringBuilder("{\"username\":\"");
    for (char c : escaped.toCharArray()) {
      json.append(c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
    }
    json.append("\"}");
    TestRequest request = TestRequest.from("203.0.113.7").body("application/json", json.toString());
    Optional<Identity> identity = RESOLVER.identify(SPECS.get(0), request, RESOLVER.clientAddress(request));
    identity.ifPresent(i -> assertThat(i.value()).matches("[0-9a-f]{16}"));
  }

  private static void check(String type, byte[] body, boolean withLength) {
    TestRequest request = TestRequest.from("203.0.113.7").header("Content-Type", type).body(body);
    if (withLength) {
      request.header("Content-Length", Integer.toString(body.length));
    }
    for (IdentitySpec spec : SPECS) {
      Optional<Identity> identity = RESOLVER.identify(spec, request, RESOLVER.clientAddress(request));
      identity.ifPresent(i -> assertThat(i.value()).matches("(203\\.0\\.113\\.7\\+)?[0-9a-f]{16}"));
    }
  }
}
