package dev.sluice.gateway.live;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The identities one policy limited, shadow-limited or blocked most, over sliding windows built
 * from fixed time buckets, each bucket a {@link SpaceSaving} summary of {@code capacity} keys.
 *
 * <p>Two rings: one-minute buckets for the 5-minute window (the current minute and the 5 before
 * it, so the window spans 5 to 6 minutes) and five-minute buckets for the 60-minute window (the
 * current one and the 12 before it: 60 to 65 minutes). A window's count for a key is the sum of
 * its counts in the window's buckets. Error bound: with {@code N} the events of the window and
 * {@code K} the capacity, every reported count is within {@code N / K} of the true count (each
 * bucket overestimates a monitored key by at most its {@code N_b / K}, and underestimates a key it
 * no longer monitors by at most {@code N_b / K}; the {@code N_b} sum to {@code N}). Memory is at
 * most {@code 19 × K} counters whatever the number of distinct identities.
 *
 * <p>Not thread-safe: {@link LiveView} locks one instance per policy.
 */
final class TopLimited {
  static final long MINUTE = 60_000L;
  static final long FIVE_MINUTES = 5 * MINUTE;
  /** Buckets kept per ring: the current one plus the ones a window reaches back over. */
  static final int SHORT_BUCKETS = 6;
  static final int LONG_BUCKETS = 13;

  private final Ring shortRing;
  private final Ring longRing;

  TopLimited(int capacity) {
    this.shortRing = new Ring(SHORT_BUCKETS, MINUTE, capacity);
    this.longRing = new Ring(LONG_BUCKETS, FIVE_MINUTES, capacity);
  }

  void add(String key, String kind, String value, int outcome, long nowMillis) {
    shortRing.bucket(nowMillis).add(key, kind, value, outcome, nowMillis);
    longRing.bucket(nowMillis).add(key, kind, value, outcome, nowMillis);
  }

  /** Counters currently held across both rings (the memory bound under test). */
  int monitored() {
    return shortRing.monitored() + longRing.monitored();
  }

  /**
   * The top {@code limit} keys of a window.
   *
   * @param longWindow the 60-minute window instead of the 5-minute one
   */
  Window top(boolean longWindow, int limit, long nowMillis) {
    Ring ring = longWindow ? longRing : shortRing;
    List<SpaceSaving> buckets = ring.live(nowMillis);
    Map<String, Entry> merged = new HashMap<>();
    long events = 0;
    int capacity = 1;
    for (SpaceSaving bucket : buckets) {
      events += bucket.total();
      capacity = bucket.capacity();
      for (SpaceSaving.Counter c : bucket.counters()) {
        Entry e = merged.computeIfAbsent(c.key, k -> new Entry(c.kind, c.value));
        e.count += c.count;
        for (int i = 0; i < e.outcomes.length; i++) {
          e.outcomes[i] += c.outcomes[i];
        }
        e.lastSeenMillis = Math.max(e.lastSeenMillis, c.lastSeenMillis);
      }
    }
    List<Entry> list = new ArrayList<>(merged.values());
    list.sort((a, b) -> a.count != b.count ? Long.compare(b.count, a.count)
        : Long.compare(b.lastSeenMillis, a.lastSeenMillis));
    if (list.size() > limit) {
      list = new ArrayList<>(list.subList(0, limit));
    }
    return new Window(events, events / capacity, list);
  }

  /** One window's answer: events counted, the bound on each count's error, the top entries. */
  record Window(long events, long maxError, List<Entry> top) {}

  /** A key's counts summed over a window. */
  static final class Entry {
    final String kind;
    final String value;
    long count;
    final long[] outcomes = new long[Outcomes.COUNT];
    long lastSeenMillis;

    Entry(String kind, String value) {
      this.kind = kind;
      this.value = value;
    }
  }

  /** A ring of time buckets; a bucket whose period has passed is reset when its slot is reused. */
  private static final class Ring {
    private final long width;
    private final SpaceSaving[] buckets;
    private final long[] ids;
    private final int capacity;

    Ring(int size, long width, int capacity) {
      this.width = width;
      this.capacity = capacity;
      this.buckets = new SpaceSaving[size];
      this.ids = new long[size];
      java.util.Arrays.fill(ids, Long.MIN_VALUE);
    }

    SpaceSaving bucket(long nowMillis) {
      long id = Math.floorDiv(nowMillis, width);
      int slot = (int) Math.floorMod(id, (long) buckets.length);
      if (ids[slot] != id || buckets[slot] == null) {
        buckets[slot] = new SpaceSaving(capacity);
        ids[slot] = id;
      }
      return buckets[slot];
    }

    List<SpaceSaving> live(long nowMillis) {
      long id = Math.floorDiv(nowMillis, width);
      List<SpaceSaving> out = new ArrayList<>();
      for (int i = 0; i < buckets.length; i++) {
        if (buckets[i] != null && ids[i] <= id && ids[i] > id - buckets.length) {
          out.add(buckets[i]);
        }
      }
      return out;
    }

    int monitored() {
      int n = 0;
      for (SpaceSaving b : buckets) {
        n += b == null ? 0 : b.size();
      }
      return n;
    }
  }
}
