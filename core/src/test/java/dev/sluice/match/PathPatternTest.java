package dev.sluice.match;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PathPatternTest {

  static Stream<Arguments> table() {
    return Stream.of(
        Arguments.of("/auth/login", "/auth/login", true),
        Arguments.of("/auth/login", "/auth/login/", true),
        Arguments.of("/auth/login/", "/auth/login", true),
        Arguments.of("/auth/login", "/auth/logins", false),
        Arguments.of("/auth/login", "/auth", false),
        Arguments.of("/auth/login", "/auth/login/x", false),
        Arguments.of("/auth/login", "/Auth/login", false),
        Arguments.of("/", "/", true),
        Arguments.of("/", "/a", false),
        Arguments.of("/a/*", "/a/x", true),
        Arguments.of("/a/*", "/a/x/", true),
        Arguments.of("/a/*", "/a", false),
        Arguments.of("/a/*", "/a/", false),
        Arguments.of("/a/*", "/a/x/y", false),
        Arguments.of("/a/*/c", "/a/b/c", true),
        Arguments.of("/a/*/c", "/a/b/d", false),
        Arguments.of("/*", "/", false),
        Arguments.of("/*", "/x", true),
        Arguments.of("/api/search/**", "/api/search", true),
        Arguments.of("/api/search/**", "/api/search/", true),
        Arguments.of("/api/search/**", "/api/search/x", true),
        Arguments.of("/api/search/**", "/api/search/x/y/z", true),
        Arguments.of("/api/search/**", "/api/searchx", false),
        Arguments.of("/api/search/**", "/api", false),
        Arguments.of("/**", "/", true),
        Arguments.of("/**", "/anything/at/all", true),
        Arguments.of("/a/*/**", "/a", false),
        Arguments.of("/a/*/**", "/a/b", true),
        Arguments.of("/a/*/**", "/a/b/c/d", true),
        Arguments.of("/a%2Fb", "/a%2Fb", true),
        Arguments.of("/a/b", "/a%2Fb", false),
        Arguments.of("/a/*", "/a/b%2Fc", true),
        Arguments.of("/café", "/café", true),
        Arguments.of("/**", "*", false));
  }

  @ParameterizedTest(name = "{0} vs {1} -> {2}")
  @MethodSource("table")
  void matches_table(String pattern, String path, boolean expected) {
    assertThat(PathPattern.compile(pattern).matches(path)).isEqualTo(expected);
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        Arguments.of("", "invalid path pattern \"\": it is empty; expected a path starting with \"/\" such as \"/api/**\""),
        Arguments.of("api/x", "invalid path pattern \"api/x\": it must start with \"/\"; did you mean \"/api/x\"?"),
        Arguments.of("/a/**/b", "invalid path pattern \"/a/**/b\": \"**\" is only allowed as the last segment"),
        Arguments.of("/a**", "invalid path pattern \"/a**\": \"**\" must be a whole segment, not part of \"a**\""),
        Arguments.of("/a/**x", "invalid path pattern \"/a/**x\": \"**\" must be a whole segment, not part of \"**x\""),
        Arguments.of("/v*/x", "invalid path pattern \"/v*/x\": \"*\" must be a whole segment, not part of \"v*\""),
        Arguments.of("/a?b=1", "invalid path pattern \"/a?b=1\": it contains \"?\" or \"#\"; patterns match the path only, never the query string"),
        Arguments.of("/a//b", "invalid path pattern \"/a//b\": it is not a normalised path and would never match; did you mean \"/a/b\"?"),
        Arguments.of("/a/./b", "invalid path pattern \"/a/./b\": it is not a normalised path and would never match; did you mean \"/a/b\"?"),
        Arguments.of("/caf%C3%A9", "invalid path pattern \"/caf%C3%A9\": it is not a normalised path and would never match; did you mean \"/café\"?"),
        Arguments.of("/..", "invalid path pattern \"/..\": it is not a valid path (\"..\" climbs above the root)"),
        Arguments.of("/a%zz", "invalid path pattern \"/a%zz\": it is not a valid path (bad percent-encoding \"%zz\"; expected \"%\" followed by two hex digits)"));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("invalid")
  void compile_invalidPattern_isRejectedWithMessage(String pattern, String message) {
    assertThatThrownBy(() -> PathPattern.compile(pattern))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(message);
  }

  @Test
  void toString_isSource() {
    assertThat(PathPattern.compile("/api/**")).hasToString("/api/**");
    assertThat(PathPattern.compile("/a/*")).isEqualTo(PathPattern.compile("/a/*"));
  }
}
