package dev.sluice.store;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.algorithm.Gcra;
import dev.sluice.algorithm.SlidingWindow;
import dev.sluice.limit.Limit;
import java.util.List;

/**
 * What a bucket's state becomes when a reload changes its policy's limits (SPEC §9: a reload never
 * gives a client a fresh burst). Pure functions over one bucket's state; see docs/algorithms.md,
 * "Reloads and changed limits".
 *
 * <p>The rule, per limit of the new spec:
 *
 * <ol>
 *   <li>a limit equal to one of the old spec (same N, period and burst, same algorithm) keeps that
 *       limit's state exactly, wherever it moved in the list;
 *   <li>a changed GCRA limit takes over the tokens the client had used under the old limit at the
 *       same position (or the old policy's last limit, when it had fewer) — used = ⌈debt / T<sub>old</sub>⌉ — capped at the new burst: debt =
 *       min(used, burst) × T<sub>new</sub>. A client that had used its old limit up has used the
 *       new one up as far as the new burst allows; one that had used nothing starts full;
 *   <li>a changed sliding-window limit keeps the admission timestamps the old log at the same
 *       position holds that fall inside the new window (the newest N<sub>new</sub>): exact when N
 *       does not grow;
 *   <li>a limit whose algorithm changed takes the most tokens used under any old limit (the client
 *       made at least that many recent requests); the Redis store cannot (its keys hold another
 *       type) and starts such limits full.
 * </ol>
 *
 * <p>From the reload on, a client is therefore admitted at most burst − used + ⌊t·N/period⌋ by
 * the new limit over any interval t: never more than the new limit grants a fresh identity, and
 * never a fresh burst for a client that had spent its tokens.
 */
final class LimitChange {
  private LimitChange() {}

  /** Same N, period and burst (the text may differ: {@code 5/minute} equals {@code 5 per minute}). */
  static boolean same(Limit a, Limit b) {
    return a == b
        || (a.quantity() == b.quantity() && a.periodNanos() == b.periodNanos() && a.burst() == b.burst());
  }

  /** Same algorithm and the same limits in the same order. */
  static boolean same(BucketSpec a, BucketSpec b) {
    if (a == b) {
      return true;
    }
    List<Limit> x = a.limits();
    List<Limit> y = b.limits();
    if (a.algorithm() != b.algorithm() || x.size() != y.size()) {
      return false;
    }
    for (int i = 0; i < x.size(); i++) {
      if (!same(x.get(i), y.get(i))) {
        return false;
      }
    }
    return true;
  }

  /**
   * The GCRA state ({@code tat} per limit) of {@code next} carried over from the old state.
   *
   * @param oldTats the old GCRA state, or null when the old spec is a sliding window
   * @param oldLogs the old sliding-window state, or null when the old spec is GCRA
   */
  static long[] tats(long now, BucketSpec old, long[] oldTats, SlidingWindow.Log[] oldLogs, BucketSpec next) {
    List<Limit> limits = next.limits();
    long[] tats = new long[limits.size()];
    for (int i = 0; i < tats.length; i++) {
      Limit limit = limits.get(i);
      int same = old.algorithm() == Algorithm.GCRA ? indexOfSame(old, limit) : -1;
      if (same >= 0) {
        tats[i] = oldTats == null ? Gcra.FRESH : oldTats[same];
      } else {
        long used = old.algorithm() == Algorithm.GCRA
            ? used(now, old, oldTats, oldLogs, Math.min(i, old.limits().size() - 1))
            : mostUsed(now, old, oldTats, oldLogs);
        tats[i] = used <= 0 ? Gcra.FRESH : now + Math.min(used, limit.burst()) * limit.emissionIntervalNanos();
      }
    }
    return tats;
  }

  /** The sliding-window state (one log per limit) of {@code next} carried over from the old state. */
  static SlidingWindow.Log[] logs(
      long now, BucketSpec old, long[] oldTats, SlidingWindow.Log[] oldLogs, BucketSpec next) {
    List<Limit> limits = next.limits();
    SlidingWindow.Log[] logs = new SlidingWindow.Log[limits.size()];
    boolean window = old.algorithm() == Algorithm.SLIDING_WINDOW && oldLogs != null;
    for (int i = 0; i < logs.length; i++) {
      Limit limit = limits.get(i);
      int same = window ? indexOfSame(old, limit) : -1;
      if (same >= 0 && oldLogs[same] != null) {
        logs[i] = SlidingWindow.carry(oldLogs[same], now, limit);
      } else if (window && i < oldLogs.length && oldLogs[i] != null) {
        logs[i] = SlidingWindow.carry(oldLogs[i], now, limit);
      } else {
        logs[i] = SlidingWindow.used(now, mostUsed(now, old, oldTats, oldLogs), limit);
      }
    }
    return logs;
  }

  private static int indexOfSame(BucketSpec old, Limit limit) {
    List<Limit> limits = old.limits();
    for (int j = 0; j < limits.size(); j++) {
      if (same(limits.get(j), limit)) {
        return j;
      }
    }
    return -1;
  }

  /** Tokens used under old limit {@code i} at {@code now}: ⌈debt / T⌉ or the live log entries. */
  private static long used(long now, BucketSpec old, long[] oldTats, SlidingWindow.Log[] oldLogs, int i) {
    Limit limit = old.limits().get(i);
    if (old.algorithm() == Algorithm.GCRA) {
      if (oldTats == null || oldTats[i] == Gcra.FRESH || oldTats[i] <= now) {
        return 0;
      }
      long interval = limit.emissionIntervalNanos();
      long debt = oldTats[i] - now;
      return debt / interval + (debt % interval == 0 ? 0 : 1);
    }
    if (oldLogs == null || oldLogs[i] == null) {
      return 0;
    }
    return SlidingWindow.live(oldLogs[i], now, limit.periodNanos());
  }

  private static long mostUsed(long now, BucketSpec old, long[] oldTats, SlidingWindow.Log[] oldLogs) {
    long most = 0;
    for (int j = 0; j < old.limits().size(); j++) {
      most = Math.max(most, used(now, old, oldTats, oldLogs, j));
    }
    return most;
  }
}
