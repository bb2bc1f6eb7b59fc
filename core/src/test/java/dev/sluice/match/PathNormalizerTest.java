package dev.sluice.match;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PathNormalizerTest {

  static Stream<Arguments> normalised() {
    return Stream.of(
        Arguments.of("/", "/"),
        Arguments.of("/a/b", "/a/b"),
        Arguments.of("/a/b?x=1&y=2", "/a/b"),
        Arguments.of("/a/b#frag", "/a/b"),
        Arguments.of("/a?b#c", "/a"),
        Arguments.of("/a/", "/a/"),
        Arguments.of("//a///b//", "/a/b/"),
        Arguments.of("/a/./b", "/a/b"),
        Arguments.of("/a/b/..", "/a/"),
        Arguments.of("/a/b/../c", "/a/c"),
        Arguments.of("/a/.", "/a/"),
        Arguments.of("/a/b/../../c", "/c"),
        Arguments.of("/./a", "/a"),
        Arguments.of("/a/..", "/"),
        Arguments.of("/a/%2E%2E/b", "/b"),
        Arguments.of("/a/%2e/b", "/a/b"),
        Arguments.of("/api/%73earch", "/api/search"),
        Arguments.of("/a%2Fb", "/a/b"),
        Arguments.of("/a%2fb", "/a/b"),
        Arguments.of("/a/..%2F/b", "/b"),
        Arguments.of("/a%25b", "/a%25b"),
        Arguments.of("/a%252Fb", "/a%252Fb"),
        Arguments.of("/a%3Fb", "/a%3Fb"),
        Arguments.of("/a%23b", "/a%23b"),
        Arguments.of("/a%20b", "/a b"),
        Arguments.of("/caf%C3%A9", "/café"),
        Arguments.of("/café", "/café"),
        Arguments.of("/%F0%9F%98%80", "/\uD83D\uDE00"),
        Arguments.of("/\uD83D\uDE00", "/\uD83D\uDE00"),
        Arguments.of("http://example.com/a/b?q", "/a/b"),
        Arguments.of("https://example.com:8443", "/"),
        Arguments.of("HTTP://example.com?x", "/"),
        Arguments.of("http://example.com/a/../b", "/b"),
        Arguments.of("*", "*"),
        Arguments.of("/http://x", "/http:/x"));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("normalised")
  void normalize_validTarget_givesPath(String target, String expected) {
    assertThat(PathNormalizer.normalize(target)).isEqualTo(expected);
    assertThat(PathNormalizer.normalize(expected)).as("idempotent").isEqualTo(expected);
  }

  static Stream<Arguments> malformed() {
    return Stream.of(
        Arguments.of("", "malformed request target \"\": it is empty; expected a path starting with \"/\""),
        Arguments.of("a/b", "malformed request target \"a/b\": expected a path starting with \"/\""),
        Arguments.of("?x", "malformed request target \"?x\": expected a path starting with \"/\""),
        Arguments.of("/..", "malformed request target \"/..\": \"..\" climbs above the root"),
        Arguments.of("/a/../..", "malformed request target \"/a/../..\": \"..\" climbs above the root"),
        Arguments.of("/%2e%2E/x", "malformed request target \"/%2e%2E/x\": \"..\" climbs above the root"),
        Arguments.of("/a%zzb", "malformed request target \"/a%zzb\": bad percent-encoding \"%zz\"; expected \"%\" followed by two hex digits"),
        Arguments.of("/a%", "malformed request target \"/a%\": bad percent-encoding \"%\"; expected \"%\" followed by two hex digits"),
        Arguments.of("/a%4", "malformed request target \"/a%4\": bad percent-encoding \"%4\"; expected \"%\" followed by two hex digits"),
        Arguments.of("/%C3", "malformed request target \"/%C3\": percent-encoded bytes in \"%C3\" are not valid UTF-8"),
        Arguments.of("/%FF%FE", "malformed request target \"/%FF%FE\": percent-encoded bytes in \"%FF%FE\" are not valid UTF-8"),
        Arguments.of("/%C0%AF", "malformed request target \"/%C0%AF\": percent-encoded bytes in \"%C0%AF\" are not valid UTF-8"),
        Arguments.of("/a%00b", "malformed request target \"/a%00b\": contains control character U+0000"),
        Arguments.of("/a%0Ab", "malformed request target \"/a%0Ab\": contains control character U+000A"),
        Arguments.of("/\uD800", "malformed request target \"/\uD800\": contains an unpaired surrogate character"),
        Arguments.of("http://", "malformed request target \"http://\": absolute-form target without a host"));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("malformed")
  void normalize_malformedTarget_isRejectedWithMessage(String target, String message) {
    assertThatThrownBy(() -> PathNormalizer.normalize(target))
        .isInstanceOf(MalformedTargetException.class)
        .hasMessage(message);
  }

  @org.junit.jupiter.api.Test
  void normalize_null_isMalformed() {
    assertThatThrownBy(() -> PathNormalizer.normalize(null)).isInstanceOf(MalformedTargetException.class);
  }
}
