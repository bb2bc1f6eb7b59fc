package dev.sluice.analysis.logs;

import dev.sluice.match.EncodedSlashes;
import dev.sluice.match.MalformedTargetException;
import dev.sluice.match.PathNormalizer;

/** A logged request target (path and query) split and normalised exactly as the gateway does. */
final class Targets {
  private Targets() {}

  /** The normalised path of {@code target}; see {@link PathNormalizer}. */
  static String path(String target, EncodedSlashes slashes) throws MalformedLineException {
    try {
      return PathNormalizer.normalize(target, slashes);
    } catch (MalformedTargetException e) {
      throw new MalformedLineException("the request target cannot be normalised: " + e.getMessage());
    }
  }

  /** The raw query of {@code target} (without {@code ?} and any fragment), or {@code null}. */
  static String query(String target) {
    int q = target.indexOf('?');
    if (q < 0) {
      return null;
    }
    int hash = target.indexOf('#', q);
    return hash < 0 ? target.substring(q + 1) : target.substring(q + 1, hash);
  }
}
