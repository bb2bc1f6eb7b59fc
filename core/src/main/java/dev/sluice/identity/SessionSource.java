package dev.sluice.identity;

import dev.sluice.request.RequestView;
import java.util.Set;

/**
 * Where {@code session} identities come from ({@code clients.session}): a cookie, or a session the
 * application asserts through the decision API, optionally only the known sessions of a {@code
 * keys_file}. Immutable.
 */
final class SessionSource {
  /** {@code null} when {@code session} is not configured. */
  private final String cookie;
  /** SHA-256 hex of each known session, or {@code null} when any value identifies. */
  private final Set<String> knownSessionDigests;

  SessionSource(String cookie, Set<String> knownSessionDigests) {
    this.cookie = cookie;
    this.knownSessionDigests = knownSessionDigests;
  }

  String cookie() {
    return cookie;
  }

  boolean knowsSessions() {
    return knownSessionDigests != null;
  }

  /** The identity value: the short hash of a (known) session, or {@code null}. */
  String value(RequestView request) {
    String value = request.assertedIdentity(IdentityKind.SESSION, null);
    if (value == null || value.isEmpty()) {
      if (cookie == null) {
        return null;
      }
      value = cookie(request, cookie);
    }
    if (value == null || (knownSessionDigests != null && !knownSessionDigests.contains(SecretDigest.sha256Hex(value)))) {
      return null;
    }
    return SecretDigest.shortHash(value);
  }

  /** The first cookie of that name over all {@code Cookie} lines (RFC 6265 §5.4), unquoted. */
  private static String cookie(RequestView request, String name) {
    for (String line : request.headers("Cookie")) {
      for (String pair : line.split(";")) {
        int eq = pair.indexOf('=');
        if (eq < 0 || !pair.substring(0, eq).strip().equals(name)) {
          continue;
        }
        String value = pair.substring(eq + 1).strip();
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
          value = value.substring(1, value.length() - 1);
        }
        return value.isEmpty() ? null : value;
      }
    }
    return null;
  }
}
