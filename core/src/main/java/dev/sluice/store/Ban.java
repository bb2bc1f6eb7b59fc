package dev.sluice.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;

/**
 * A ban: one identity refused by one policy (or by every policy) until a wall-clock instant
 * (SPEC §7). Bans live in the store so every gateway instance sharing it refuses the identity.
 *
 * @param id {@link #idOf(String, String)} of scope and identity, so banning the same identity
 *     again in the same scope replaces the earlier ban instead of adding a second one
 * @param scope the policy name the ban applies to, or {@link #ALL_POLICIES}
 * @param identity the banned identity as {@code Identity.key()}, e.g. {@code ip:203.0.113.7}
 *     (secret identities are already hashed, so a ban never holds a raw secret)
 * @param expiresAtEpochMillis when the ban ends, in milliseconds since the epoch (wall clock,
 *     because bans are shared between machines whose monotonic clocks are unrelated)
 * @param reason a sentence for operators (admin API, audit); never contains a secret
 * @param issuer who set the ban: {@link #OPERATOR} for the admin API, else the name of the policy
 *     whose {@code penalty} minted it. Stores bound penalty bans per issuing policy and never evict
 *     an operator's ban; a penalty ban never replaces a live operator ban with the same id.
 */
public record Ban(
    String id, String scope, String identity, long expiresAtEpochMillis, String reason, String issuer) {

  /** The scope of a ban that applies under every policy ({@code penalty.scope: all}). */
  public static final String ALL_POLICIES = "*";

  /** The {@link #issuer()} of a ban set by an operator (no policy name is empty). */
  public static final String OPERATOR = "";

  /** An operator's ban ({@link #OPERATOR}); the shape of the record before bans had an issuer. */
  public Ban(String id, String scope, String identity, long expiresAtEpochMillis, String reason) {
    this(id, scope, identity, expiresAtEpochMillis, reason, OPERATOR);
  }

  /**
   * Validates the ban.
   *
   * @throws IllegalArgumentException when {@code id} is not {@link #idOf(String, String)} of the
   *     scope and identity, or a component is null or blank
   */
  public Ban {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(scope, "scope");
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(issuer, "issuer");
    if (scope.isBlank() || identity.isBlank()) {
      throw new IllegalArgumentException(
          "a ban needs a scope (a policy name or \"*\") and an identity, got scope \"" + scope
              + "\" and identity \"" + identity + "\"");
    }
    String expected = idOf(scope, identity);
    if (!id.equals(expected)) {
      throw new IllegalArgumentException(
          "ban id \"" + id + "\" does not match its scope and identity; expected \"" + expected + "\"");
    }
  }

  /** An operator's ban with the id derived from {@code scope} and {@code identity}. */
  public static Ban of(String scope, String identity, long expiresAtEpochMillis, String reason) {
    return new Ban(idOf(scope, identity), scope, identity, expiresAtEpochMillis, reason, OPERATOR);
  }

  /**
   * A ban minted by the {@code penalty} of {@code policy}, with the id derived from {@code scope}
   * (the policy, or {@link #ALL_POLICIES}) and {@code identity}.
   *
   * @throws IllegalArgumentException when {@code policy} is blank
   */
  public static Ban penalty(
      String policy, String scope, String identity, long expiresAtEpochMillis, String reason) {
    if (policy == null || policy.isBlank()) {
      throw new IllegalArgumentException("a penalty ban needs the name of its policy, got \"" + policy + "\"");
    }
    return new Ban(idOf(scope, identity), scope, identity, expiresAtEpochMillis, reason, policy);
  }

  /** Whether an operator set this ban (through the admin API). */
  public boolean byOperator() {
    return OPERATOR.equals(issuer);
  }

  /**
   * Whether this ban may replace {@code held}, the ban with the same id already stored: always,
   * except that a penalty ban never replaces an operator's ban that is still active at {@code
   * nowMillis} (an offence must not shorten what an operator decided).
   */
  public boolean mayReplace(Ban held, long nowMillis) {
    return held == null || byOperator() || !held.byOperator() || !held.activeAt(nowMillis);
  }

  /**
   * The stable id of a ban: the first 16 hex digits of SHA-256 over scope and identity. Stable
   * across instances and restarts (the admin API's {@code DELETE /v1/bans/{id}} works on any
   * instance); 64 bits make an accidental collision between two live bans negligible.
   */
  public static String idOf(String scope, String identity) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(scope.getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0); // a policy name never contains NUL, so scope|identity is unambiguous
      byte[] hash = sha.digest(identity.getBytes(StandardCharsets.UTF_8));
      StringBuilder hex = new StringBuilder(16);
      for (int i = 0; i < 8; i++) {
        hex.append(Character.forDigit((hash[i] >> 4) & 0xf, 16)).append(Character.forDigit(hash[i] & 0xf, 16));
      }
      return hex.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JVM provides SHA-256", e);
    }
  }

  /** Whether the ban still holds at {@code epochMillis}. */
  public boolean activeAt(long epochMillis) {
    return epochMillis < expiresAtEpochMillis;
  }

  /** Whether the ban applies to requests decided by {@code policy}. */
  public boolean covers(String policy) {
    return ALL_POLICIES.equals(scope) || scope.equals(policy);
  }
}
