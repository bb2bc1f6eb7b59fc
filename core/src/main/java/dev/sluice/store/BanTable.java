package dev.sluice.store;

import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.LongAdder;

/**
 * The memory store's bans, bounded without ever evicting a live ban.
 *
 * <p>Bounds: operator bans ({@link Ban#byOperator()}) up to {@code operatorCap}; penalty bans up
 * to one share per issuing policy. A new ban beyond its bound is refused (the admin API answers
 * 503; a penalty stays an ordinary 429 and is counted). So no ban — an operator's or another
 * identity's penalty — ever gives way to a new one. Replacing a ban (same id) never needs room,
 * except when it moves to another issuer's share.
 *
 * <p>Cost: expired bans leave in expiry order (a sorted set), so a put is O(log n) plus the expired
 * bans it drops, each dropped once; listing is O(n). Thread-safe: every method holds the table's
 * lock (bans change rarely; the engine reads its own replica, never this table, per request).
 */
final class BanTable {
  private static final Comparator<Ban> BY_EXPIRY =
      Comparator.comparingLong(Ban::expiresAtEpochMillis).thenComparing(Ban::id);

  private final long operatorCap;
  private volatile long shareCap;
  private final Map<String, Ban> byId = new HashMap<>();
  private final TreeSet<Ban> byExpiry = new TreeSet<>(BY_EXPIRY);
  /** Issuer → live bans it holds here. */
  private final Map<String, long[]> held = new HashMap<>();
  private final Map<String, PenaltyRefusedException> refusals = new HashMap<>();
  private final LongAdder refused = new LongAdder();

  BanTable(long operatorCap) {
    this.operatorCap = operatorCap;
    this.shareCap = operatorCap;
  }

  /** One share of penalty bans per policy: {@code operatorCap / policies}, at least 1. */
  void usePolicies(int policies) {
    shareCap = Math.max(1, operatorCap / Math.max(1, policies));
  }

  long shareCap() {
    return shareCap;
  }

  /**
   * Stores {@code ban} (see the class comment). A penalty ban over a live operator ban with the
   * same id is ignored; a ban that has already ended only removes the ban with its id.
   *
   * @throws PenaltyRefusedException when a new penalty ban finds its policy's share full
   * @throws StoreException when a new operator ban finds {@code operatorCap} operator bans live
   */
  synchronized void put(Ban ban, long nowMillis) {
    prune(nowMillis);
    Ban previous = byId.get(ban.id());
    if (!ban.mayReplace(previous, nowMillis)) {
      return;
    }
    if (!ban.activeAt(nowMillis)) {
      if (previous != null) {
        drop(previous);
      }
      return;
    }
    if (previous == null || !previous.issuer().equals(ban.issuer())) {
      long[] count = held.get(ban.issuer());
      if (ban.byOperator()) {
        if (count != null && count[0] >= operatorCap) {
          throw new StoreException("the ban table already holds " + operatorCap + " operator bans, its"
              + " bound (store.max_keys); remove some, or block a CIDR instead of banning addresses one by one");
        }
      } else if (count != null && count[0] >= shareCap) {
        refused.increment();
        throw refusal(ban.issuer());
      }
    }
    if (previous != null) {
      drop(previous);
    }
    byId.put(ban.id(), ban);
    byExpiry.add(ban);
    held.computeIfAbsent(ban.issuer(), k -> new long[1])[0]++;
  }

  /** Removes the ban {@code id}; whether an unexpired one was removed. */
  synchronized boolean remove(String id, long nowMillis) {
    Ban ban = byId.get(id);
    if (ban == null) {
      return false;
    }
    drop(ban);
    return ban.activeAt(nowMillis);
  }

  /** Every unexpired ban. */
  synchronized List<Ban> live(long nowMillis) {
    prune(nowMillis);
    return List.copyOf(byId.values());
  }

  /** Penalty bans refused because their policy's share was full. */
  long refused() {
    return refused.sum();
  }

  /** Live bans (and expired ones not pruned yet) held. */
  synchronized int size() {
    return byId.size();
  }

  private void prune(long nowMillis) {
    while (!byExpiry.isEmpty() && !byExpiry.first().activeAt(nowMillis)) {
      drop(byExpiry.first());
    }
  }

  private void drop(Ban ban) {
    byId.remove(ban.id());
    byExpiry.remove(ban);
    long[] count = held.get(ban.issuer());
    if (count != null && --count[0] == 0) {
      held.remove(ban.issuer());
    }
  }

  private PenaltyRefusedException refusal(String policy) {
    long cap = shareCap;
    PenaltyRefusedException e = refusals.get(policy);
    if (e == null || !e.getMessage().contains("share of " + cap + " ")) {
      e = new PenaltyRefusedException(policy, "penalty bans", cap);
      refusals.put(policy, e);
    }
    return e;
  }
}
