package dev.sluice.match;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Assume;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class PathNormalizerProperties {

  /** Strings made mostly of the characters that matter to the normaliser, so the edge cases get hit. */
  @Provide
  Arbitrary<String> targets() {
    Arbitrary<String> pieces = Arbitraries.oneOf(
        Arbitraries.of("/", "//", ".", "..", "%", "%2F", "%2f", "%25", "%2E", "%2e", "%3F", "%23", "?", "#",
            "%C3%A9", "%C3", "%FF", "%00", "a", "b", "é", "\uD83D\uDE00", "\uD800", "*", "http://h", ":", " "),
        Arbitraries.strings().ofMaxLength(3));
    return pieces.list().ofMaxSize(12).map(list -> String.join("", list));
  }

  @Property(tries = 3000)
  void normalize_anyTarget_givesPathOrMalformed(@ForAll("targets") String target) {
    String path;
    try {
      path = PathNormalizer.normalize(target);
    } catch (MalformedTargetException expected) {
      return;
    }
    assertThat(path).satisfiesAnyOf(p -> assertThat(p).startsWith("/"), p -> assertThat(p).isEqualTo("*"));
    assertThat(path).doesNotContain("//").doesNotContain("?").doesNotContain("#");
  }

  @Property(tries = 1000)
  void normalize_arbitraryString_givesPathOrMalformed(@ForAll String target) {
    try {
      PathNormalizer.normalize(target);
    } catch (MalformedTargetException expected) {
      // the only exception allowed
    }
  }

  @Property(tries = 3000)
  void normalize_output_isFixedPoint(@ForAll("targets") String target) {
    String once;
    try {
      once = PathNormalizer.normalize(target);
    } catch (MalformedTargetException expected) {
      return;
    }
    assertThat(PathNormalizer.normalize(once)).isEqualTo(once);
  }

  /** The fast path for already-normal paths must never change an answer, nor an error. */
  @Property(tries = 3000)
  void normalize_fastPath_agreesWithSegmentBySegment(@ForAll("targets") String target) {
    Assume.that(!target.isEmpty() && !target.equals("*")); // answered before either path
    String fast;
    try {
      fast = PathNormalizer.normalize(target);
    } catch (MalformedTargetException e) {
      assertThatThrownBy(() -> PathNormalizer.normalizeSegments(target))
          .isInstanceOf(MalformedTargetException.class).hasMessage(e.getMessage());
      return;
    }
    assertThat(fast).isEqualTo(PathNormalizer.normalizeSegments(target));
  }
}
