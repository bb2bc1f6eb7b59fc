package dev.sluice.identity;

import dev.sluice.request.RequestView;
import java.util.List;

/**
 * {@code header:<Name>} identities: the value of a request header (all its lines joined), or the
 * value the application asserts through the decision API, hashed like every personal value.
 */
final class HeaderSource {
  private HeaderSource() {}

  /** The identity value for header {@code name}, or {@code null}. */
  static String value(RequestView request, String name) {
    return SecretDigest.hashOrNull(asserted(request, IdentityKind.HEADER, name, headerValue(request, name)));
  }

  /** The application's asserted value for {@code kind} when it gives a non-empty one, else {@code fallback}. */
  private static String asserted(RequestView request, IdentityKind kind, String parameter, String fallback) {
    String value = request.assertedIdentity(kind, parameter);
    return value == null || value.isEmpty() ? fallback : value;
  }

  private static String headerValue(RequestView request, String name) {
    List<String> lines = request.headers(name);
    if (lines.isEmpty()) {
      return null;
    }
    String joined = String.join(", ", lines).strip();
    return joined.isEmpty() ? null : joined;
  }
}
