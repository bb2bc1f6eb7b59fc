package dev.sluice.match;

import dev.sluice.request.HttpToken;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * The {@code match:} block of a policy: a set of methods and a list of path patterns.
 *
 * <p>A request matches when its method is one of {@link #methods()} (an empty set means any method;
 * {@code HEAD} also matches a set containing {@code GET}, because servers answer {@code HEAD} with
 * the {@code GET} handler) and its normalised path matches at least one pattern.
 *
 * <p>Immutable and thread-safe.
 */
public final class RequestMatcher {
  private final Set<String> methods;
  private final List<PathPattern> paths;
  /** The same patterns as an array: iterated for every request without an iterator. */
  private final PathPattern[] patterns;
  /** {@code methods} is empty (any method), read per request without going through the set. */
  private final boolean anyMethod;

  /**
   * Creates a matcher.
   *
   * @param methods HTTP methods, compared case-insensitively (stored upper case); empty = any method
   * @param paths the path patterns; at least one
   * @throws IllegalArgumentException when a method is blank or not an HTTP token, or {@code paths}
   *     is empty
   */
  public RequestMatcher(Collection<String> methods, Collection<PathPattern> paths) {
    Objects.requireNonNull(methods, "methods");
    Objects.requireNonNull(paths, "paths");
    Set<String> upper = new LinkedHashSet<>();
    for (String method : methods) {
      if (method == null || method.isEmpty() || !HttpToken.isToken(method)) {
        throw new IllegalArgumentException(
            "invalid HTTP method " + (method == null ? "null" : PathNormalizer.quote(method))
                + ": expected a method name such as GET or POST");
      }
      upper.add(method.toUpperCase(Locale.ROOT));
    }
    if (paths.isEmpty()) {
      throw new IllegalArgumentException(
          "a request matcher needs at least one path pattern (use \"/**\" for every path)");
    }
    for (PathPattern p : paths) {
      Objects.requireNonNull(p, "paths must not contain null");
    }
    this.methods = Collections.unmodifiableSet(upper);
    this.anyMethod = upper.isEmpty();
    this.paths = List.copyOf(new ArrayList<>(paths));
    this.patterns = this.paths.toArray(new PathPattern[0]);
  }

  /**
   * Whether a request with this method and normalised path matches.
   *
   * @param method the request method, any case
   * @param normalisedPath the path as returned by {@link PathNormalizer#normalize(String)}
   */
  public boolean matches(String method, String normalisedPath) {
    Objects.requireNonNull(method, "method");
    if (!anyMethod) {
      String m = method.toUpperCase(Locale.ROOT);
      if (!methods.contains(m) && !(m.equals("HEAD") && methods.contains("GET"))) {
        return false;
      }
    }
    for (PathPattern pattern : patterns) {
      if (pattern.matches(normalisedPath)) {
        return true;
      }
    }
    return false;
  }

  /** The methods, upper case; empty = any. */
  public Set<String> methods() {
    return methods;
  }

  /** The path patterns, in the order given. */
  public List<PathPattern> paths() {
    return paths;
  }

  @Override
  public String toString() {
    return (methods.isEmpty() ? "*" : String.join(",", methods)) + " " + paths;
  }
}
