package dev.sluice.match;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A compiled {@code paths:} entry of a policy, matched against normalised paths (see {@link
 * PathNormalizer}).
 *
 * <ul>
 *   <li>a literal segment matches itself exactly (case-sensitive);
 *   <li>{@code *} matches exactly one non-empty segment;
 *   <li>{@code **} matches zero or more segments and is only allowed as the last segment, so
 *       {@code /api/search/**} matches {@code /api/search}, {@code /api/search/x} and
 *       {@code /api/search/x/y}.
 * </ul>
 *
 * <p>A trailing slash is not significant on either side: {@code /a} matches {@code /a/} and
 * {@code /a/} matches {@code /a}. Frameworks differ on trailing slashes (Flask redirects one to the
 * other), and for a limiter matching too much is the safe side; matching too little is a bypass.
 *
 * <p>Immutable and thread-safe.
 */
public final class PathPattern {
  private static final String ANY_SEGMENT = "*";
  private static final String ANY_SEGMENTS = "**";

  private final String source;
  /**
   * The segments before a final {@code **}, compiled for {@link #matches}: a literal as its text,
   * {@code *} as {@code null} — so matching compares no marker strings per request (it runs for
   * every policy of every request; the string comparisons were an eighth of a hot-key decision).
   */
  private final String[] fixed;
  /** Whether the pattern ends with {@code **} (only allowed last): any remaining segments match. */
  private final boolean anyTail;
  /**
   * For the commonest shape, literal segments then {@code **} ({@code /api/**}): those segments
   * as one prefix ({@code /api}), matched with one {@code startsWith} instead of a walk per
   * segment; null for every other shape.
   */
  private final String literalPrefix;

  private PathPattern(String source, String[] segments) {
    this.source = source;
    this.anyTail = segments.length > 0 && segments[segments.length - 1].equals(ANY_SEGMENTS);
    int count = anyTail ? segments.length - 1 : segments.length;
    this.fixed = new String[count];
    for (int i = 0; i < count; i++) {
      fixed[i] = segments[i].equals(ANY_SEGMENT) ? null : segments[i];
    }
    boolean literal = anyTail && count > 0;
    StringBuilder prefix = new StringBuilder();
    for (String segment : fixed) {
      literal &= segment != null;
      prefix.append('/').append(segment);
    }
    this.literalPrefix = literal ? prefix.toString() : null;
  }

  /**
   * Compiles a pattern such as {@code /api/orders/*} or {@code /api/**}.
   *
   * <p>Literal parts must already be in normalised form (no {@code //}, no dot-segments, no
   * percent-encoding other than {@code %2F}, {@code %25}, {@code %3F}, {@code %23}), because they are
   * compared with normalised paths; otherwise the pattern could never match and is rejected. A
   * {@code %2F} can only match with {@link EncodedSlashes#KEEP} (see {@link #hasEncodedSlash()}).
   *
   * @throws IllegalArgumentException with a message naming the pattern and the problem when it is
   *     empty, does not start with {@code /}, uses {@code **} other than as the whole last segment,
   *     mixes {@code *} with other characters in a segment, or is not a normalised path
   */
  public static PathPattern compile(String source) {
    if (source == null || source.isEmpty()) {
      throw new IllegalArgumentException(
          "invalid path pattern \"\": it is empty; expected a path starting with \"/\" such as \"/api/**\"");
    }
    String quoted = PathNormalizer.quote(source);
    if (!source.startsWith("/")) {
      throw new IllegalArgumentException(
          "invalid path pattern " + quoted + ": it must start with \"/\"; did you mean \"/" + source + "\"?");
    }
    if (source.indexOf('?') >= 0 || source.indexOf('#') >= 0) {
      throw new IllegalArgumentException(
          "invalid path pattern " + quoted
              + ": it contains \"?\" or \"#\"; patterns match the path only, never the query string");
    }
    String body = source.substring(1);
    String[] parts = body.isEmpty() ? new String[0] : body.split("/", -1);
    List<String> segments = new ArrayList<>(parts.length);
    for (int i = 0; i < parts.length; i++) {
      String part = parts[i];
      boolean last = i == parts.length - 1;
      if (part.contains(ANY_SEGMENTS) && !part.equals(ANY_SEGMENTS)) {
        throw new IllegalArgumentException(
            "invalid path pattern " + quoted + ": \"**\" must be a whole segment, not part of \""
                + part + "\"");
      }
      if (part.equals(ANY_SEGMENTS) && !last) {
        throw new IllegalArgumentException(
            "invalid path pattern " + quoted + ": \"**\" is only allowed as the last segment");
      }
      if (part.contains(ANY_SEGMENT) && !part.equals(ANY_SEGMENT) && !part.equals(ANY_SEGMENTS)) {
        throw new IllegalArgumentException(
            "invalid path pattern " + quoted + ": \"*\" must be a whole segment, not part of \""
                + part + "\"");
      }
      if (part.isEmpty() && last) {
        continue; // trailing slash: not significant
      }
      segments.add(part);
    }
    String normalised;
    try {
      // KEEP is the mode that leaves the most patterns meaningful (a literal %2F inside a segment);
      // whether %2F can match under the configured mode is the policy file reader's check.
      normalised = PathNormalizer.normalize(source, EncodedSlashes.KEEP);
    } catch (MalformedTargetException e) {
      throw new IllegalArgumentException(
          "invalid path pattern " + quoted + ": it is not a valid path ("
              + e.getMessage().replaceFirst("^malformed request target \"[^\"]*\": ", "") + ")", e);
    }
    if (!normalised.equals(source)) {
      throw new IllegalArgumentException(
          "invalid path pattern " + quoted + ": it is not a normalised path and would never match; did you mean "
              + PathNormalizer.quote(normalised) + "?");
    }
    return new PathPattern(source, segments.toArray(new String[0]));
  }

  /**
   * Whether the normalised path matches this pattern. Paths that do not start with {@code /} (such as
   * the asterisk-form {@code *}) match no pattern.
   */
  public boolean matches(String normalisedPath) {
    Objects.requireNonNull(normalisedPath, "normalisedPath");
    if (!normalisedPath.startsWith("/")) {
      return false;
    }
    String prefix = literalPrefix;
    if (prefix != null) {
      // The prefix, then the path's end or a further segment ("/api" must not match "/apix").
      int n = prefix.length();
      return normalisedPath.startsWith(prefix)
          && (normalisedPath.length() == n || normalisedPath.charAt(n) == '/');
    }
    // Walks the path's segments in place (this runs for every policy of every request).
    int end = normalisedPath.length();
    if (end > 1 && normalisedPath.charAt(end - 1) == '/') {
      end--; // trailing slash: not significant
    }
    boolean consumed = end == 1; // "/" has no segments
    int start = 1;
    for (String segment : fixed) {
      if (consumed) {
        return false;
      }
      int slash = normalisedPath.indexOf('/', start);
      int segmentEnd = slash < 0 || slash > end ? end : slash;
      int length = segmentEnd - start;
      boolean same = segment == null
          ? length > 0
          : length == segment.length() && normalisedPath.regionMatches(start, segment, 0, length);
      if (!same) {
        return false;
      }
      consumed = segmentEnd == end;
      start = segmentEnd + 1;
    }
    return anyTail || consumed;
  }

  /**
   * Whether a literal segment holds an encoded slash ({@code %2F}): such a pattern matches only
   * paths normalised with {@link EncodedSlashes#KEEP}; under the other modes it never matches.
   */
  public boolean hasEncodedSlash() {
    return source.contains("%2F");
  }

  /** The pattern as written. */
  @Override
  public String toString() {
    return source;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof PathPattern p && p.source.equals(source);
  }

  @Override
  public int hashCode() {
    return source.hashCode();
  }
}
