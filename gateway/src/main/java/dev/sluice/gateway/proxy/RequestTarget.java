package dev.sluice.gateway.proxy;

import dev.sluice.match.EncodedSlashes;
import dev.sluice.match.MalformedTargetException;
import dev.sluice.match.PathNormalizer;

/**
 * A request target split the way the proxy needs it: the origin-form sent upstream (unchanged
 * bytes, so the upstream routes exactly what the client sent), the normalised path the policies
 * match, and the raw query.
 *
 * <p>Why forwarding the raw bytes is consistent with matching on the normalised path: the target is
 * printable ASCII (anything else is refused here — Netty reads the request line as ISO-8859-1 and
 * the upstream encoder would re-encode it, so the upstream would see other bytes than the ones
 * matched), and the normalised path is, by {@link EncodedSlashes}, the path the upstream routes for
 * exactly these bytes.
 *
 * @param originForm the target as forwarded, {@code /path?query}
 * @param path the normalised path (see {@link PathNormalizer})
 * @param rawQuery the query without {@code ?}, or {@code null}
 */
public record RequestTarget(String originForm, String path, String rawQuery) {

  /** {@link #parse(String, EncodedSlashes)} with {@code %2F} read as a separator (the default). */
  static RequestTarget parse(String target) {
    return parse(target, EncodedSlashes.DECODE);
  }

  /**
   * Parses an origin-form ({@code /a?b}) or absolute-form ({@code http://host/a?b}) target.
   *
   * @param encodedSlashes what {@code %2F} in the path means for matching
   * @throws MalformedTargetException for any other form ({@code *}, authority-form), a raw byte
   *     outside printable ASCII, or a path {@link PathNormalizer} cannot normalise in this mode
   */
  public static RequestTarget parse(String target, EncodedSlashes encodedSlashes) {
    for (int i = 0; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c <= 0x20 || c >= 0x7F) {
        // The decoder maps each byte to one char (ISO-8859-1), so c is the byte the client sent.
        throw new MalformedTargetException(String.format(
            "the request target contains the raw byte 0x%02X at offset %d; expected printable ASCII,"
                + " with other bytes percent-encoded (as %%%02X)", (int) c & 0xFF, i, (int) c & 0xFF));
      }
    }
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
    String path = PathNormalizer.normalize(origin, encodedSlashes);
    return new RequestTarget(origin, path, rawQuery);
  }

  private static String abbreviate(String text) {
    return text.length() <= 64 ? text : text.substring(0, 64) + "…";
  }
}
