package dev.sluice.match;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class RequestMatcherTest {
  private static final List<PathPattern> LOGIN = List.of(PathPattern.compile("/auth/login"));

  @Test
  void matches_methodsCaseInsensitive_matchesUpperCase() {
    RequestMatcher m = new RequestMatcher(List.of("post"), LOGIN);
    assertThat(m.methods()).containsExactly("POST");
    assertThat(m.matches("POST", "/auth/login")).isTrue();
    assertThat(m.matches("post", "/auth/login")).isTrue();
    assertThat(m.matches("GET", "/auth/login")).isFalse();
    assertThat(m.matches("POST", "/auth/other")).isFalse();
  }

  @Test
  void matches_emptyMethods_matchesAnyMethod() {
    RequestMatcher m = new RequestMatcher(List.of(), LOGIN);
    assertThat(m.matches("DELETE", "/auth/login")).isTrue();
    assertThat(m.matches("PATCH", "/auth/login")).isTrue();
  }

  @Test
  void matches_headWhenGetListed_matches() {
    RequestMatcher m = new RequestMatcher(List.of("GET"), LOGIN);
    assertThat(m.matches("HEAD", "/auth/login")).isTrue();
    assertThat(new RequestMatcher(List.of("POST"), LOGIN).matches("HEAD", "/auth/login")).isFalse();
    assertThat(new RequestMatcher(List.of("HEAD"), LOGIN).matches("GET", "/auth/login")).isFalse();
  }

  @Test
  void matches_anyOfSeveralPaths_matches() {
    RequestMatcher m = new RequestMatcher(List.of(),
        List.of(PathPattern.compile("/api/search"), PathPattern.compile("/api/search/**")));
    assertThat(m.matches("GET", "/api/search")).isTrue();
    assertThat(m.matches("GET", "/api/search/a/b")).isTrue();
    assertThat(m.matches("GET", "/api/other")).isFalse();
  }

  @Test
  void constructor_badMethodOrNoPaths_isRejected() {
    assertThatThrownBy(() -> new RequestMatcher(List.of("GE T"), LOGIN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("invalid HTTP method \"GE T\": expected a method name such as GET or POST");
    assertThatThrownBy(() -> new RequestMatcher(List.of(""), LOGIN))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new RequestMatcher(List.of("GET"), List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a request matcher needs at least one path pattern (use \"/**\" for every path)");
  }
}
