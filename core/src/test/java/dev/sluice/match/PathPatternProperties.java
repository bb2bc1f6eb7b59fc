package dev.sluice.match;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@link PathPattern#matches} walks the path in place; these properties pin it to the plain
 * definition (split both on "/" and compare segment by segment), so the fast walk cannot drift.
 */
class PathPatternProperties {

  @Provide
  Arbitrary<String> patterns() {
    Arbitrary<String> segment = Arbitraries.of("a", "b", "ab", "*", "%2F");
    return segment.list().ofMaxSize(4).flatMap(parts -> Arbitraries.of(false, true).flatMap(
        anyTail -> Arbitraries.of(false, true).map(slash -> {
          String body = String.join("/", parts) + (anyTail ? (parts.isEmpty() ? "**" : "/**") : "");
          return "/" + body + (slash && !anyTail && !body.isEmpty() ? "/" : "");
        })));
  }

  @Provide
  Arbitrary<String> paths() {
    // Normalised paths, plus the odd empty segment and non-path forms, to probe the edges.
    return Arbitraries.of("a", "b", "ab", "", "%2F", "abc").list().ofMaxSize(5)
        .flatMap(parts -> Arbitraries.of("/", "", "*").map(prefix -> prefix + String.join("/", parts)));
  }

  @Property(tries = 2000)
  void matches_agreesWithSegmentBySegmentDefinition(
      @ForAll("patterns") String pattern, @ForAll("paths") String path) {
    assertThat(PathPattern.compile(pattern).matches(path))
        .as("%s ~ %s", pattern, path)
        .isEqualTo(reference(pattern, path));
  }

  /** The definition in the class comment, written the obvious (allocating) way. */
  private static boolean reference(String pattern, String path) {
    if (!path.startsWith("/")) {
      return false;
    }
    List<String> want = segments(pattern);
    List<String> have = segments(path);
    for (int i = 0; i < want.size(); i++) {
      String w = want.get(i);
      if (w.equals("**")) {
        return true;
      }
      if (i >= have.size() || (w.equals("*") ? have.get(i).isEmpty() : !w.equals(have.get(i)))) {
        return false;
      }
    }
    return have.size() == want.size();
  }

  private static List<String> segments(String path) {
    String trimmed = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    return trimmed.length() == 1 ? List.of() : List.of(trimmed.substring(1).split("/", -1));
  }
}
