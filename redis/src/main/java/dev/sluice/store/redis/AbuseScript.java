package dev.sluice.store.redis;

import dev.sluice.store.Ban;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.StoreException;
import java.util.ArrayList;
import java.util.List;

/**
 * The abuse-control script ({@code abuse.lua}): refunds, offence counts, bans and concurrency
 * permits, one operation per call. Builds each operation's ARGV (layout documented at the top of
 * the script) and checks its replies.
 */
final class AbuseScript {

  /**
   * Offence times kept per key, so the count saturates here — the memory store's bound
   * ({@code MemoryStore.MAX_OFFENCES_PER_KEY}); escalation reached its maximum long before.
   */
  static final int MAX_OFFENCES_PER_KEY = 1024;

  /**
   * The most operator bans held at once, and the penalty bans all policies share (each policy
   * {@code MAX_BANS / policies}); beyond them a new ban is refused, no live ban is ever evicted.
   * Every instance lists all bans every 250 ms, so the registry must stay small; see {@code
   * docs/distributed.md}.
   */
  static final int MAX_BANS = 100_000;

  static final AbuseScript INSTANCE = new AbuseScript(DecisionScript.readScript("abuse.lua"));

  private final String source;
  private final String sha;

  private AbuseScript(String source) {
    this.source = source;
    this.sha = DecisionScript.sha1(source);
  }

  String source() {
    return source;
  }

  String sha() {
    return sha;
  }

  /**
   * ARGV of a refund: the same per-limit numbers (and the same checks) as a decision.
   *
   * @throws StoreException when a limit exceeds what the scripts compute exactly
   * @throws IllegalArgumentException when the cost is out of range for a limit
   */
  String[] refund(BucketSpec spec, long cost, DecisionScript.TestTime testTime) {
    String[] decide = DecisionScript.INSTANCE.args(spec, cost, testTime);
    // decide: [algorithm, cost, mode, time, per-limit...]; refund: [op, mode, time, algorithm, cost, per-limit...]
    String[] args = new String[decide.length + 1];
    args[0] = "refund";
    args[1] = decide[2];
    args[2] = decide[3];
    args[3] = decide[0];
    args[4] = decide[1];
    System.arraycopy(decide, 4, args, 5, decide.length - 4);
    return args;
  }

  String[] offence(long windowNanos, DecisionScript.TestTime testTime) {
    return args("offence", testTime, Long.toString(windowNanos), Integer.toString(MAX_OFFENCES_PER_KEY));
  }

  /**
   * ARGV of a permit acquisition. The lease is rounded up to whole microseconds (the score unit)
   * and saturates at {@link DecisionScript#MAX_HORIZON_NANOS} (~104 days).
   */
  String[] acquirePermit(int max, long leaseNanos, String member, DecisionScript.TestTime testTime) {
    long lease = Math.min(leaseNanos, DecisionScript.MAX_HORIZON_NANOS);
    long micros = lease / 1000 + (lease % 1000 == 0 ? 0 : 1);
    return args("permit_acquire", testTime, Integer.toString(max), Long.toString(micros), member);
  }

  String[] releasePermit(DecisionScript.TestTime testTime) {
    return args("permit_release", testTime);
  }

  String[] forget(DecisionScript.TestTime testTime) {
    return args("forget", testTime);
  }

  /** ARGV of a ban put; {@code share}: the most penalty bans one policy may hold. */
  String[] putBan(Ban ban, long share, DecisionScript.TestTime testTime) {
    return args("ban_put", testTime, ban.id(), Long.toString(ban.expiresAtEpochMillis()),
        BanCodec.encode(ban), Integer.toString(MAX_BANS), Long.toString(share));
  }

  String[] removeBan(String id, DecisionScript.TestTime testTime) {
    return args("ban_remove", testTime, id);
  }

  String[] listBans(String version, String newGeneration, DecisionScript.TestTime testTime) {
    return args("ban_list", testTime, version, newGeneration);
  }

  /**
   * A copy of the ban registry as of {@code version}; the script answers with the version alone
   * while the copy is current.
   */
  record BanList(String version, List<Ban> bans) {
    static final BanList NONE = new BanList("-", List.of()); // no version is "-"
  }

  /** An integer reply (counts, 0/1 flags); anything else is a StoreException. */
  long integer(Object reply, String operation) {
    if (reply instanceof Long value) {
      return value;
    }
    throw new StoreException(RedisMessages.unexpectedAbuseReply(operation, reply, "an integer"));
  }

  /** A {@code ban_list} reply: the store's generation and the ban list. */
  record Listing(String generation, BanList bans) {}

  /**
   * The reply of {@code ban_list}: the generation, and {@code copy} itself when the script says
   * it is current, else the new version and every unexpired ban.
   */
  Listing bans(Object reply, BanList copy) {
    if (!(reply instanceof List<?> values) || values.size() < 2 || !(values.get(0) instanceof String generation)
        || !(values.get(1) instanceof String version)) {
      throw new StoreException(RedisMessages.unexpectedAbuseReply("ban_list", reply,
          "[generation, version, bans...]"));
    }
    if (values.size() == 2 && version.equals(copy.version())) {
      return new Listing(generation, copy);
    }
    List<Ban> bans = new ArrayList<>(values.size() - 2);
    for (Object value : values.subList(2, values.size())) {
      if (!(value instanceof String text)) {
        throw new StoreException(RedisMessages.unexpectedAbuseReply("ban_list", reply,
            "[generation, version, bans...]"));
      }
      try {
        bans.add(BanCodec.decode(text));
      } catch (IllegalArgumentException e) {
        throw new StoreException(RedisMessages.describe(e), e);
      }
    }
    return new Listing(generation, new BanList(version, List.copyOf(bans)));
  }

  private static String[] args(String operation, DecisionScript.TestTime testTime, String... rest) {
    String[] time = DecisionScript.timeArgs(testTime);
    String[] args = new String[3 + rest.length];
    args[0] = operation;
    args[1] = time[0];
    args[2] = time[1];
    System.arraycopy(rest, 0, args, 3, rest.length);
    return args;
  }
}
