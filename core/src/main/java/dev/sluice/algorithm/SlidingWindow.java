package dev.sluice.algorithm;

import dev.sluice.limit.Limit;
import java.util.Arrays;
import java.util.List;

/**
 * The exact sliding window: at most N tokens admitted in <em>any</em> window {@code [a, a +
 * period)}, with no burst beyond N (a limit's {@code burst} is ignored).
 *
 * <p>Design. The state of one limit is a {@link Log}: the timestamps of the last N admitted
 * tokens, oldest first, in a ring buffer (a request of cost {@code c} writes {@code c} entries).
 * A request of cost {@code c} at {@code now} conforms iff fewer than {@code N - c + 1} tokens were
 * admitted in {@code (now - period, now]}, i.e. iff the {@code (N - c + 1)}-th most recent entry is
 * at least {@code period} old — an O(1) check. When it is not, that entry's age tells the exact
 * retry-after: {@code entry + period - now}.
 *
 * <p>Memory: up to N longs (8·N bytes) per key per limit. The ring starts small and doubles, so
 * quiet keys stay small, but a key that uses its whole quota holds all N entries. That is why N
 * is capped at {@link #MAX_QUANTITY}; the policy layer should reject larger sliding-window limits
 * (or prefer GCRA, whose state is one long whatever N is).
 *
 * <p>Time: a {@code now} earlier than the newest entry (two threads reading the clock in one
 * order and locking in the other) is treated as the newest entry's time, keeping the log sorted.
 * Timestamps must not wrap ({@code entry + period} must fit a long).
 *
 * <p>Thread-safety: stateless; a {@link Log} is not thread-safe, callers serialise access.
 */
public final class SlidingWindow {

  /** The largest N a sliding-window limit may have (its log holds up to N longs per key). */
  public static final long MAX_QUANTITY = 100_000;

  private SlidingWindow() {}

  /**
   * A log for {@code next} that keeps the newest entries of {@code old} still inside {@code
   * next}'s window at {@code now}, at most {@code next.quantity()} of them: a limit changed by a
   * reload judged on the admissions the old one recorded. Exact when N does not grow (the newest
   * N admissions are all a window of N needs); when it grows, admissions older than the old log's
   * N were never kept and are not counted.
   */
  public static Log carry(Log old, long now, Limit next) {
    Log log = new Log(next.quantity());
    int from = Math.max(old.firstLive(now, next.periodNanos()), old.size() - log.quantity);
    for (int i = from; i < old.size(); i++) {
      log.append(old.at(i), 1);
    }
    return log;
  }

  /** The timestamps {@code log} holds, oldest first (for snapshots). */
  public static long[] timestamps(Log log) {
    long[] out = new long[log.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = log.at(i);
    }
    return out;
  }

  /** A log for {@code limit} holding {@code timestamps} (oldest first; at most N are kept). */
  public static Log of(Limit limit, long[] timestamps) {
    Log log = new Log(limit.quantity());
    for (long t : timestamps) {
      log.append(t, 1);
    }
    return log;
  }

  /** Tokens of {@code log} still counted at {@code now} by a window of {@code periodNanos}. */
  public static long live(Log log, long now, long periodNanos) {
    return log.size() - log.firstLive(now, periodNanos);
  }

  /** A log for {@code next} holding {@code tokens} (at most N) admissions made at {@code now}. */
  public static Log used(long now, long tokens, Limit next) {
    Log log = new Log(next.quantity());
    log.append(now, Math.min(tokens, next.quantity()));
    return log;
  }

  /**
   * The admission log of one sliding-window limit for one key. Mutable, not thread-safe.
   */
  public static final class Log {
    private static final int INITIAL_CAPACITY = 8;

    private final int quantity;
    private long[] ring;
    private int head;
    private int size;

    /**
     * An empty log for a limit of {@code quantity} tokens per period.
     *
     * @throws IllegalArgumentException when quantity is not in {@code [1, MAX_QUANTITY]}
     */
    public Log(long quantity) {
      if (quantity < 1 || quantity > MAX_QUANTITY) {
        throw new IllegalArgumentException(
            "a sliding-window limit allows 1 to " + MAX_QUANTITY + " tokens per period (its state"
                + " holds one timestamp per token), got " + quantity);
      }
      this.quantity = (int) quantity;
      this.ring = new long[Math.min(this.quantity, INITIAL_CAPACITY)];
    }

    /** The N this log was made for. */
    public long quantity() {
      return quantity;
    }

    /** Entries currently held (at most N). */
    public int size() {
      return size;
    }

    /** The newest entry, or {@code Long.MIN_VALUE} when empty. */
    public long newest() {
      return size == 0 ? Long.MIN_VALUE : at(size - 1);
    }

    /** Entry {@code i}, 0 being the oldest held. */
    long at(int i) {
      int index = head + i;
      return ring[index < ring.length ? index : index - ring.length];
    }

    void append(long timestamp, long count) {
      for (long k = 0; k < count; k++) {
        if (size == ring.length && ring.length < quantity) {
          grow();
        }
        if (size < ring.length) {
          int index = head + size;
          ring[index < ring.length ? index : index - ring.length] = timestamp;
          size++;
        } else {
          // Full at N entries: the oldest can no longer matter, overwrite it.
          ring[head] = timestamp;
          head = head + 1 == ring.length ? 0 : head + 1;
        }
      }
    }

    /**
     * Removes the newest {@code count} entries (all of them when fewer are held): undoes the
     * latest admissions, for refunds. Added for the store's {@code refund}.
     */
    public void removeNewest(long count) {
      size = (int) Math.max(0, size - Math.max(0, count));
    }

    private void grow() {
      long[] bigger = new long[(int) Math.min(quantity, 2L * ring.length)];
      for (int i = 0; i < size; i++) {
        bigger[i] = at(i);
      }
      ring = bigger;
      head = 0;
    }

    /** Index of the oldest entry still inside {@code (now - period, now]}; {@code size} if none. */
    int firstLive(long now, long periodNanos) {
      int lo = 0;
      int hi = size;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (now - at(mid) >= periodNanos) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo;
    }

    @Override
    public String toString() {
      long[] entries = new long[size];
      for (int i = 0; i < size; i++) {
        entries[i] = at(i);
      }
      return "Log" + Arrays.toString(entries);
    }
  }

  /**
   * Nanoseconds until a request of {@code cost} conforms; 0 when it conforms now. Exact: at {@code
   * now + retryAfter} it conforms, one nanosecond earlier it does not.
   *
   * @throws IllegalArgumentException when {@code cost < 1}, {@code cost > N}, or the log was made
   *     for another N
   */
  public static long retryAfter(Log log, long now, long cost, Limit limit) {
    check(log, cost, limit);
    long at = Math.max(now, log.newest());
    // The (N - c + 1)-th most recent entry must be at least a period old.
    long index = log.size() - (limit.quantity() - cost) - 1;
    if (index < 0) {
      return 0;
    }
    long entry = log.at((int) index);
    if (at - entry >= limit.periodNanos()) {
      return 0;
    }
    // Positive: entry + period > at >= now.
    return entry + limit.periodNanos() - now;
  }

  /**
   * One request of {@code cost} tokens against one limit: records it and returns 0 when it
   * conforms, else leaves the log unchanged and returns the retry-after in nanoseconds.
   */
  public static long tryConsume(Log log, long now, long cost, Limit limit) {
    long wait = retryAfter(log, now, cost, limit);
    if (wait == 0) {
      log.append(Math.max(now, log.newest()), cost);
    }
    return wait;
  }

  /**
   * Consumes {@code cost} from every limit or from none: every limit is evaluated first, the logs
   * (one per limit, same order) are written only when all conform.
   *
   * @return {@link Admission#ADMITTED}, or the denial naming the limit that needs the longest wait
   *     (first on ties) and that wait
   */
  public static Admission consumeAll(Log[] logs, long now, long cost, List<Limit> limits) {
    if (logs.length != limits.size()) {
      throw new IllegalArgumentException(
          "one log per limit expected, got " + logs.length + " for " + limits.size() + " limits");
    }
    int denied = -1;
    long longestWait = 0;
    for (int i = 0; i < logs.length; i++) {
      long wait = retryAfter(logs[i], now, cost, limits.get(i));
      if (wait > longestWait) {
        longestWait = wait;
        denied = i;
      }
    }
    if (denied >= 0) {
      return new Admission(denied, longestWait);
    }
    for (Log log : logs) {
      log.append(Math.max(now, log.newest()), cost);
    }
    return Admission.ADMITTED;
  }

  /** Tokens that could be admitted at {@code now} (N minus those admitted in the last period). */
  public static long remaining(Log log, long now, Limit limit) {
    long at = Math.max(now, log.newest());
    return limit.quantity() - (log.size() - log.firstLive(at, limit.periodNanos()));
  }

  /** Nanoseconds until one more token is available (the oldest live entry expires); 0 when full. */
  public static long nanosToNextToken(Log log, long now, Limit limit) {
    long at = Math.max(now, log.newest());
    int first = log.firstLive(at, limit.periodNanos());
    if (first == log.size()) {
      return 0;
    }
    return log.at(first) + limit.periodNanos() - now;
  }

  /** Nanoseconds until no admitted token counts any more (all N available); 0 when so. */
  public static long nanosToFull(Log log, long now, Limit limit) {
    if (log.size() == 0) {
      return 0;
    }
    return Math.max(0, log.newest() + limit.periodNanos() - now);
  }

  private static void check(Log log, long cost, Limit limit) {
    if (log.quantity() != limit.quantity()) {
      throw new IllegalArgumentException(
          "log made for " + log.quantity() + " tokens used with limit \"" + limit.text() + "\"");
    }
    if (cost < 1 || cost > limit.quantity()) {
      throw new IllegalArgumentException(
          "cost must be between 1 and the quantity of sliding-window limit \"" + limit.text()
              + "\" (" + limit.quantity() + "), got " + cost);
    }
  }
}
