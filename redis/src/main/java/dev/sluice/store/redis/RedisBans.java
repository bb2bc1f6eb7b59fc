package dev.sluice.store.redis;

import dev.sluice.store.Ban;
import dev.sluice.store.PenaltyRefusedException;
import dev.sluice.store.StoreException;
import io.lettuce.core.ScriptOutputType;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * The ban list of a {@link RedisStore} (one hash shared by every instance, read through the abuse
 * script), the last list read, the penalty-ban shares, and the store generation that the list
 * carries, whose changes count as resets. {@link RedisStore}'s methods of the same names document
 * the behaviour.
 */
final class RedisBans {

  /** The bans hash, its expiry index and version: one slot ({@code {bans}}), updated together. */
  private static final String[] BAN_KEYS =
      {RedisKeys.BANS, RedisKeys.BAN_EXPIRY, RedisKeys.BAN_VERSION, RedisKeys.BAN_HELD};
  /** {@link #BAN_KEYS} and the generation (same slot), for {@code ban_list}. */
  private static final String[] LIST_KEYS =
      {RedisKeys.BANS, RedisKeys.BAN_EXPIRY, RedisKeys.BAN_VERSION, RedisKeys.BAN_HELD, RedisKeys.GENERATION};

  private final RedisCalls calls;
  private final AbuseScript abuse;
  /** Local refusal hints, dropped when the data set was erased. */
  private final RefusalCache refusals;
  /** Test seam: null = the server's TIME (production). */
  private final DecisionScript.TestTime testTime;
  /** The last ban list read, reused while the registry's version is unchanged. */
  private final AtomicReference<AbuseScript.BanList> bans = new AtomicReference<>(AbuseScript.BanList.NONE);
  /** The store's generation as last seen by {@link #listBans()}; null before the first list. */
  private final AtomicReference<String> generation = new AtomicReference<>();
  private final AtomicLong resets = new AtomicLong();
  /** The most penalty bans one policy may hold: MAX_BANS / policies in use. */
  private volatile long banShare = AbuseScript.MAX_BANS;
  private final LongAdder penaltiesRefused = new LongAdder();

  RedisBans(RedisCalls calls, AbuseScript abuse, RefusalCache refusals, DecisionScript.TestTime testTime) {
    this.calls = calls;
    this.abuse = abuse;
    this.refusals = refusals;
    this.testTime = testTime;
  }

  CompletionStage<Void> putBan(Ban ban) {
    Objects.requireNonNull(ban, "ban");
    long share = banShare;
    String[] args = abuse.putBan(ban, share, testTime);
    return calls.call("storing a ban", () -> calls.evalAbuse(BAN_KEYS, args, "ban_put").thenApply(reply -> {
      if (reply == 0) {
        penaltiesRefused.increment();
        throw new PenaltyRefusedException(ban.issuer(), "penalty bans", share);
      }
      if (reply == -1) {
        throw new StoreException(RedisMessages.operatorBansFull(AbuseScript.MAX_BANS));
      }
      return (Void) null;
    }));
  }

  /** Divides the penalty bans into one share per policy. */
  void usePolicies(Collection<String> policies) {
    banShare = Math.max(1, AbuseScript.MAX_BANS / Math.max(1, policies.size()));
  }

  long penaltiesRefused() {
    return penaltiesRefused.sum();
  }

  CompletionStage<Boolean> removeBan(String id) {
    Objects.requireNonNull(id, "id");
    String[] args = abuse.removeBan(id, testTime);
    return calls.call("removing a ban", () -> calls.evalAbuse(BAN_KEYS, args, "ban_remove").thenApply(n -> n == 1));
  }

  CompletionStage<List<Ban>> listBans() {
    AbuseScript.BanList copy = bans.get();
    String known = generation.get();
    String[] args = abuse.listBans(copy.version(), newGeneration(), testTime);
    return calls.call("listing bans", () -> calls.evalsha(abuse.sha(), abuse.source(), ScriptOutputType.MULTI,
        LIST_KEYS, args).thenApply(reply -> {
          AbuseScript.Listing listing = abuse.bans(reply, copy);
          noteGeneration(known, listing.generation());
          bans.set(listing.bans()); // concurrent lists may store an older one: the next call renews it
          return listing.bans().bans();
        }));
  }

  long resets() {
    return resets.get();
  }

  private void noteGeneration(String known, String current) {
    // Two lists racing saw the same `known`: only the one whose CAS wins counts the reset.
    if (generation.compareAndSet(known, current) && known != null && !known.equals(current)) {
      refusals.invalidateAll(); // the data set was erased: every bucket is full again
      resets.incrementAndGet();
    }
  }

  /** A generation no other instance will propose: random bits and this instant. */
  private static String newGeneration() {
    return Long.toHexString(ThreadLocalRandom.current().nextLong()) + "@" + System.currentTimeMillis();
  }
}
