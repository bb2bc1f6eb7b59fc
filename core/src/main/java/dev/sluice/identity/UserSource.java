package dev.sluice.identity;

import dev.sluice.request.RequestView;
import java.math.BigDecimal;
import java.time.InstantSource;
import java.util.Map;
import java.util.Optional;

/**
 * Where {@code user} identities come from ({@code clients.user.jwt}): a claim of a JWT whose
 * signature verified and that is within {@code exp}/{@code nbf} on the wall clock (see {@link
 * Jwt}), or a user the application asserts through the decision API. Immutable.
 */
final class UserSource {
  private final String header;
  private final String claim;
  /** {@code null} when {@code user} is not configured. */
  private final Jwt jwt;
  private final InstantSource wallClock;

  UserSource(String header, String claim, Jwt jwt, InstantSource wallClock) {
    this.header = header;
    this.claim = claim;
    this.jwt = jwt;
    this.wallClock = wallClock;
  }

  String header() {
    return header;
  }

  String claim() {
    return claim;
  }

  /** Whether a JWT source is configured. */
  boolean configured() {
    return jwt != null;
  }

  Optional<byte[]> hs256Secret() {
    return jwt == null ? Optional.empty() : jwt.hs256Secret();
  }

  /** The identity value: the asserted user or the verified claim, or {@code null}. */
  String value(RequestView request) {
    String asserted = request.assertedIdentity(IdentityKind.USER, null);
    if (asserted != null && !asserted.isEmpty()) {
      // Authenticated by the application (decision API): taken as the JWT claim would be.
      return asserted.chars().anyMatch(c -> c < 0x20 || c == 0x7F) ? null : asserted;
    }
    if (jwt == null) {
      return null;
    }
    String token = request.header(header);
    if (token == null) {
      return null;
    }
    token = token.strip();
    if (token.regionMatches(true, 0, "Bearer ", 0, 7)) {
      token = token.substring(7).strip();
    }
    Map<String, Object> claims = jwt.verify(token, wallClock.instant());
    if (claims == null) {
      return null;
    }
    Object value = claims.get(claim);
    if (value instanceof String s) {
      return s.isEmpty() || s.chars().anyMatch(c -> c < 0x20 || c == 0x7F) ? null : s;
    }
    if (value instanceof BigDecimal n) {
      BigDecimal stripped = n.stripTrailingZeros();
      return stripped.scale() <= 0 && stripped.precision() - stripped.scale() <= 40
          ? stripped.toBigInteger().toString() : null;
    }
    return null;
  }
}
