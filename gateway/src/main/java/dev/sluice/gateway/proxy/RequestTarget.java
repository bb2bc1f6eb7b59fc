package dev.sluice.gateway.proxy;

import dev.sluice.match.MalformedTargetException;
import dev.sluice.match.PathNormalizer;

/**
 * A request target split the way the proxy needs it: the origin-form sent upstream (unchanged
 * bytes, so the upstream routes exactly what the client sent), the normalised path the policies
 * match, and the raw query.
 *
 * @param originForm the target as forwarded, {@code /path?query}
 * @param path the normalised path (see {@link PathNormalizer})
 * @param rawQuery the query without {@code ?}, or {@code null}
 */
record RequestTarget(String originForm, String path, String rawQuery) {

  /**
   * Parses an origin-form ({@code /a?b}) or absolute-form ({@code http://host/a?b}) target.
   *
   * @throws MalformedTargetException for any other form ({@code *}, authority-form) or a path
   *     {@link PathNormalizer} cannot normalise
   */
  static RequestTarget parse(String target) {
    String origin = target;
    if (!target.startsWith("/")) {
      int scheme = target.indexOf("://");
      String lower = target.toLowerCase(java.util.Locale.ROOT);
      if (scheme < 0 || !(lower.startsWith("http://") || lower.startsWith("https://"))) {
        throw new MalformedTargetException(
            "request target '" + abbreviate(target) + "' is not supported; expected a path such as /api/items");
      }
      int pathStart = target.indexOf('/', scheme + 3);
      int queryStart = target.indexOf('?', scheme + 3);
      if (pathStart < 0 || (queryStart >= 0 && queryStart < pathStart)) {
        origin = "/" + (queryStart >= 0 ? target.substring(queryStart) : "");
      } else {
        origin = target.substring(pathStart);
      }
    }
    int q = origin.indexOf('?');
    String rawQuery = q < 0 ? null : origin.substring(q + 1);
    String path = PathNormalizer.normalize(origin);
    return new RequestTarget(origin, path, rawQuery);
  }

  private static String abbreviate(String text) {
    return text.length() <= 64 ? text : text.substring(0, 64) + "…";
  }
}
