package dev.sluice.policy;

import java.nio.charset.StandardCharsets;

/**
 * Staged enforcement ({@code rollout: N%}, SPEC §9): which identities a partially rolled-out
 * policy enforces, and which it only observes (shadow).
 *
 * <p>An identity is enforced when {@code slot(policy, identity) < share}, where the share is in
 * basis points (0 … 10,000 = 0 … 100%) and the slot is a fixed 64-bit hash of the policy name and
 * the identity key reduced to 0 … 9,999:
 *
 * <pre>
 * h    = FNV-1a 64 over UTF-8(policy name) ‖ 0x00 ‖ UTF-8(identity key)   (offset 0xcbf29ce484222325,
 *                                                                           prime 0x100000001b3)
 * h    = MurmurHash3 fmix64(h)                                             (spreads FNV's low bits)
 * slot = h mod 10,000, unsigned
 * </pre>
 *
 * <p>Why this hash: it is specified here bit for bit and depends on nothing but the two strings,
 * so every instance, every restart and every JVM version chooses the same identities
 * ({@link String#hashCode()} would too, but it is 32 bits of poorly mixed state, and a change of
 * its spec would silently move users). The identity key is the bucket key's identity part
 * ({@code ip:203.0.113.7}, secrets already hashed), so the choice follows the same identity the
 * limits count. Hashing the policy name in means two policies rolled out to 10% do not pick the
 * same 10% of users. Raising the share only adds identities: those enforced at 10% stay enforced
 * at 50%.
 */
public final class Rollout {
  /** The share meaning "every identity": 100%. */
  public static final int ALL = 10_000;

  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  private Rollout() {}

  /** The slot of {@code identityKey} under {@code policy}: 0 … 9,999, the same everywhere. */
  public static int slot(String policy, String identityKey) {
    long h = FNV_OFFSET;
    h = fnv(h, policy);
    h = (h ^ 0) * FNV_PRIME;
    h = fnv(h, identityKey);
    return (int) Long.remainderUnsigned(fmix64(h), ALL);
  }

  /**
   * Whether a policy rolled out to {@code share} basis points enforces {@code identityKey}.
   * Always true at {@link #ALL}, always false at 0 (no hash computed).
   */
  public static boolean enforces(String policy, String identityKey, int share) {
    if (share >= ALL) {
      return true;
    }
    if (share <= 0) {
      return false;
    }
    return slot(policy, identityKey) < share;
  }

  /** The share as written in a policy file: {@code 10%}, {@code 2.5%}, {@code 100%}. */
  public static String text(int share) {
    int whole = share / 100;
    int fraction = share % 100;
    if (fraction == 0) {
      return whole + "%";
    }
    return fraction % 10 == 0 ? whole + "." + fraction / 10 + "%" : whole + "." + (fraction < 10 ? "0" : "") + fraction + "%";
  }

  private static long fnv(long h, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    for (byte b : bytes) {
      h = (h ^ (b & 0xff)) * FNV_PRIME;
    }
    return h;
  }

  private static long fmix64(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return k;
  }
}
