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
 *
 * <p>Abuse control (SPEC §7) adds three namespaces, none of which can collide with a bucket key
 * (those have the brace right after {@code sluice:v1:} and a colon inside it):
 * {@code sluice:v1:offence:{<key>}} (LIST of offence times), {@code sluice:v1:permit:{<key>}}
 * (ZSET of permit leases) — the whole escaped key is the hash tag, so each is one slot of its own
 * — and the ban registry {@code sluice:v1:{bans}} (HASH id → ban) with its expiry index
 * {@code sluice:v1:{bans}:expiry} (ZSET id → epoch ms) and version {@code sluice:v1:{bans}:version},
 * plus the store's generation {@code sluice:v1:{bans}:generation} (no TTL; see
 * {@link #GENERATION}), all in the one {@code {bans}} slot so one script updates them together.
 */
final class RedisKeys {
  static final String PREFIX = "sluice:v1:";

  private RedisKeys() {}

  static String[] keys(BucketKey key, BucketSpec spec) {
    return keys(key, suffixes(spec));
  }

  /** Per limit of the spec, what follows the bucket's hash tag: {@code <alg>:<N>/<periodNanos>/<B>}. */
  static String[] suffixes(BucketSpec spec) {
    String alg = spec.algorithm() == Algorithm.GCRA ? "gcra:" : "window:";
    String[] suffixes = new String[spec.limits().size()];
    for (int i = 0; i < suffixes.length; i++) {
      Limit limit = spec.limits().get(i);
      suffixes[i] = alg + limit.quantity() + "/" + limit.periodNanos() + "/" + limit.burst();
    }
    return suffixes;
  }

  /**
   * The bucket's keys given each limit's suffix ({@code <alg>:<N>/<periodNanos>/<B>}), which
   * depends only on the spec: {@link DecisionCommand} builds them once per spec.
   */
  static String[] keys(BucketKey key, String[] suffixes) {
    String base = PREFIX + "{" + escape(key.policy(), true) + ":" + escape(key.identity(), false) + "}:";
    String[] keys = new String[suffixes.length];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = base.concat(suffixes[i]);
    }
    return keys;
  }

  /** The registry of bans: HASH id → encoded ban. Same slot as {@link #BAN_EXPIRY}. */
  static final String BANS = PREFIX + "{bans}";

  /** The bans' expiry index: ZSET id → expiry in epoch milliseconds. */
  static final String BAN_EXPIRY = PREFIX + "{bans}:expiry";

  /** The bans' version: changes with every change of the registry. */
  static final String BAN_VERSION = PREFIX + "{bans}:version";

  /** Live bans per issuer: HASH "o" (operators) or "p:<policy>" → count. Same slot as {@link #BANS}. */
  static final String BAN_HELD = PREFIX + "{bans}:held";

  /**
   * The store's generation: set (without TTL) by the first instance that finds it missing; a
   * change means the data set was erased behind Sluice's back. Same slot as {@link #BANS}.
   */
  static final String GENERATION = PREFIX + "{bans}:generation";

  /** The LIST of recent offences of {@code offenceKey}. */
  static String offence(String offenceKey) {
    return PREFIX + "offence:{" + escape(offenceKey, false) + "}";
  }

  /** The ZSET of permit leases of {@code permitKey}. */
  static String permit(String permitKey) {
    return PREFIX + "permit:{" + escape(permitKey, false) + "}";
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
