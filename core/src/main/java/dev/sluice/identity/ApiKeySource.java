package dev.sluice.identity;

import dev.sluice.request.RequestView;
import java.util.Optional;
import java.util.Set;

/**
 * Where {@code api_key} identities come from ({@code clients.api_key}): a header or a query
 * parameter, and optionally the known keys of a {@code keys_file}. Immutable.
 */
final class ApiKeySource {
  private final String header;
  private final String query;
  /** SHA-256 hex of each known key, or {@code null} when any key identifies. */
  private final Set<String> knownKeyDigests;

  ApiKeySource(String header, String query, Set<String> knownKeyDigests) {
    this.header = header;
    this.query = query;
    this.knownKeyDigests = knownKeyDigests;
  }

  String header() {
    return header;
  }

  String query() {
    return query;
  }

  boolean knowsKeys() {
    return knownKeyDigests != null;
  }

  /** Whether a header or a query parameter is configured. */
  boolean configured() {
    return header != null || query != null;
  }

  /** The identity value: the short hash of a (known) key, or {@code null}. */
  String value(RequestView request) {
    return raw(request).filter(this::isKnownKey).map(SecretDigest::shortHash).orElse(null);
  }

  /** See {@link IdentityResolver#rawApiKey(RequestView)}. */
  Optional<String> raw(RequestView request) {
    String key = request.assertedIdentity(IdentityKind.API_KEY, null);
    if (key != null && !key.isEmpty()) {
      key = key.strip();
      return key.isEmpty() ? Optional.empty() : Optional.of(key);
    }
    key = null;
    if (header != null) {
      key = request.header(header);
    } else if (query != null) {
      key = FormEncoding.parameter(request.rawQuery(), query);
    }
    if (key == null) {
      return Optional.empty();
    }
    key = key.strip();
    return key.isEmpty() ? Optional.empty() : Optional.of(key);
  }

  /**
   * Known keys are kept as SHA-256 digests and a key is looked up by its digest. Hash-then-lookup
   * is what keeps this free of timing leaks: the timing of a set lookup depends only on the digest,
   * which a client cannot steer towards a stored one, never on how many characters of a real key
   * it guessed right.
   */
  private boolean isKnownKey(String key) {
    return knownKeyDigests == null || knownKeyDigests.contains(SecretDigest.sha256Hex(key));
  }
}
