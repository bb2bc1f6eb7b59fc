package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SpellingTest {
  private static final List<String> FIELDS = List.of("listen", "upstream", "admin", "upstream_timeout");

  @Test
  void closest_typo_isSuggested() {
    assertThat(Spelling.closest("listn", FIELDS)).contains("listen");
    assertThat(Spelling.closest("upstraem", FIELDS)).contains("upstream");
    assertThat(Spelling.closest("upstream-timeout", FIELDS)).contains("upstream_timeout");
    assertThat(Spelling.closest("ADMIN", FIELDS)).contains("admin");
  }

  @Test
  void closest_unrelatedWord_suggestsNothing() {
    assertThat(Spelling.closest("colour", FIELDS)).isEmpty();
    assertThat(Spelling.closest("port", FIELDS)).isEmpty();
  }

  @Test
  void distance_transposition_countsAsOneEdit() {
    assertThat(Spelling.distance("ab", "ba")).isEqualTo(1);
    assertThat(Spelling.distance("kitten", "sitting")).isEqualTo(3);
    assertThat(Spelling.distance("", "abc")).isEqualTo(3);
  }
}
