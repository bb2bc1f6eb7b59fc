package dev.sluice.identity;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What secrets and personal values look like inside this package: an {@link Identity} holds the
 * first 16 hex digits of their SHA-256, a {@code keys_file} entry is kept as the whole digest.
 */
final class SecretDigest {
  private static final int HASH_HEX_DIGITS = 16;
  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

  private SecretDigest() {}

  static String hashOrNull(String secret) {
    return secret == null || secret.isEmpty() ? null : shortHash(secret);
  }

  /** The first 16 hex digits of the SHA-256 of the UTF-8 value: what secrets look like in identities. */
  static String shortHash(String secret) {
    return sha256Hex(secret).substring(0, HASH_HEX_DIGITS);
  }

  static String sha256Hex(String value) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(digest.digest(value.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /**
   * The digests of a {@code keys_file}'s entries: each entry a raw value or the lowercase hex
   * SHA-256 of one (an entry of exactly 64 lowercase hex digits is always read as a digest);
   * {@code null} stays {@code null}.
   *
   * @throws IllegalArgumentException when an entry is empty, naming it as {@code what #line}
   */
  static List<String> digests(Collection<String> values, String what) {
    if (values == null) {
      return null;
    }
    List<String> digests = new ArrayList<>(values.size());
    int line = 0;
    for (String value : values) {
      line++;
      if (value == null || value.isBlank()) {
        throw new IllegalArgumentException(what + " #" + line + " is empty");
      }
      String v = value.strip();
      digests.add(SHA256_HEX.matcher(v).matches() ? v : sha256Hex(v));
    }
    return digests;
  }
}
