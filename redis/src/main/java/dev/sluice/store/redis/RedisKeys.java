package dev.sluice.store.redis;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.Limit;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;

/**
 * The key layout, version 1: {@code sluice:v1:{<policy>:<identity>}:<alg>:<N>/<periodNanos>/<B>},
 * one key per limit of a bucket.
 *
 * <p>Why this shape: the part in braces is the Redis Cluster hash tag, identical for every limit
 * of one bucket, so one script touches one slot (no CROSSSLOT) while different identities spread
 * over all slots. Names are escaped so the tag is injective and cannot end early: {@code %} →
 * {@code %25}, {@code {} → {@code %7B}, {@code }} → {@code %7D}, and in the policy also {@code :}
 * → {@code %3A} (the first colon inside the tag separates policy from identity, which itself is
 * {@code kind:value}). The limit itself is part of the key, so a reloaded policy with different
 * limits starts from fresh buckets instead of misreading old state; the algorithm too, since the
 * two keep different data types. {@code v1} changes whenever the stored format does.
 */
final class RedisKeys {
  static final String PREFIX = "sluice:v1:";

  private RedisKeys() {}

  static String[] keys(BucketKey key, BucketSpec spec) {
    String base = PREFIX + "{" + escape(key.policy(), true) + ":" + escape(key.identity(), false) + "}:"
        + (spec.algorithm() == Algorithm.GCRA ? "gcra:" : "window:");
    String[] keys = new String[spec.limits().size()];
    for (int i = 0; i < keys.length; i++) {
      Limit limit = spec.limits().get(i);
      keys[i] = base + limit.quantity() + "/" + limit.periodNanos() + "/" + limit.burst();
    }
    return keys;
  }

  static String escape(String name, boolean escapeColon) {
    StringBuilder out = null;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      String replacement = switch (c) {
        case '%' -> "%25";
        case '{' -> "%7B";
        case '}' -> "%7D";
        case ':' -> escapeColon ? "%3A" : null;
        default -> null;
      };
      if (replacement != null && out == null) {
        out = new StringBuilder(name.length() + 8).append(name, 0, i);
      }
      if (out != null) {
        if (replacement != null) {
          out.append(replacement);
        } else {
          out.append(c);
        }
      }
    }
    return out == null ? name : out.toString();
  }
}
