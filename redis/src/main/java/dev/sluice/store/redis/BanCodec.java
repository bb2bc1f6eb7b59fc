package dev.sluice.store.redis;

import dev.sluice.store.Ban;

/**
 * How a {@link Ban} is stored in the bans hash: {@code <expiresAt>:<n>:<scope><m>:<identity><reason>},
 * a penalty ban prefixed with {@code p<k>:<policy>} (its issuer)
 * — the expiry, then scope and identity each prefixed by its length in chars, then the reason
 * (the rest). Length prefixes need no escaping, so any text round-trips; the script reads only
 * the issuer prefix (it keeps the expiry in a sorted set of its own). The id is not stored in the value:
 * it is the hash field, and {@link Ban}'s constructor re-derives and checks it on decoding.
 */
final class BanCodec {
  private BanCodec() {}

  static String encode(Ban ban) {
    String base = ban.expiresAtEpochMillis() + ":" + ban.scope().length() + ":" + ban.scope()
        + ban.identity().length() + ":" + ban.identity() + ban.reason();
    // A penalty ban is prefixed with its policy, p<length>:<policy> (abuse.lua reads it to bound
    // penalty bans per policy); an operator's ban keeps the original form.
    return ban.byOperator() ? base : "p" + ban.issuer().length() + ":" + ban.issuer() + base;
  }

  /**
   * @throws IllegalArgumentException when {@code value} is not an encoded ban (naming it)
   */
  static Ban decode(String value) {
    try {
      int[] at = {0};
      String issuer = Ban.OPERATOR;
      if (value.startsWith("p")) {
        at[0] = 1;
        issuer = counted(value, at);
      }
      long expiresAt = Long.parseLong(until(value, at));
      String scope = counted(value, at);
      String identity = counted(value, at);
      String reason = value.substring(at[0]);
      return issuer.isEmpty()
          ? Ban.of(scope, identity, expiresAt, reason)
          : Ban.penalty(issuer, scope, identity, expiresAt, reason);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("stored ban '" + value + "' is malformed; expected"
          + " <expiresAtMillis>:<length>:<scope><length>:<identity><reason>", e);
    }
  }

  private static String until(String value, int[] at) {
    int colon = value.indexOf(':', at[0]);
    if (colon < 0) {
      throw new IllegalArgumentException("missing ':'");
    }
    String part = value.substring(at[0], colon);
    at[0] = colon + 1;
    return part;
  }

  private static String counted(String value, int[] at) {
    int length = Integer.parseInt(until(value, at));
    String part = value.substring(at[0], at[0] + length);
    at[0] += length;
    return part;
  }
}
