package dev.sluice.gateway.live;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Space-Saving heavy-hitters summary (Metwally, Agrawal, El Abbadi 2005) over at most
 * {@code capacity} monitored keys. When an unmonitored key arrives and the summary is full, the
 * key with the smallest count is replaced and the newcomer inherits that count as its
 * {@code error}. Guarantees, with {@code n} the number of {@link #add}s: every reported count
 * overestimates the true count by at most its {@code error} ≤ {@code n / capacity}; every key whose
 * true count exceeds {@code n / capacity} is monitored. Memory is O(capacity) whatever the stream.
 *
 * <p>The replacement scans for the minimum (O(capacity)); with the small capacities used here
 * (≤ 128) that is cheaper than the linked stream-summary and allocates nothing on a hit.
 * Not thread-safe: callers lock.
 */
final class SpaceSaving {

  /** One monitored key: its (over)estimated count, the error it inherited, and what it saw itself. */
  static final class Counter {
    final String key;
    long count;
    long error;
    final long[] outcomes = new long[Outcomes.COUNT];
    long lastSeenMillis;
    String kind;
    String value;

    Counter(String key) {
      this.key = key;
    }
  }

  private final int capacity;
  private final Map<String, Counter> counters;
  private long total;

  SpaceSaving(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
    }
    this.capacity = capacity;
    this.counters = new HashMap<>(capacity * 2);
  }

  /**
   * Counts one occurrence of {@code key}.
   *
   * @param outcome index in {@link Outcomes}
   * @return the key's counter (owned by this summary)
   */
  Counter add(String key, String kind, String value, int outcome, long nowMillis) {
    total++;
    Counter counter = counters.get(key);
    if (counter == null) {
      if (counters.size() < capacity) {
        counter = new Counter(key);
      } else {
        Counter min = null;
        for (Counter c : counters.values()) {
          if (min == null || c.count < min.count) {
            min = c;
          }
        }
        counters.remove(min.key);
        counter = new Counter(key);
        counter.count = min.count;
        counter.error = min.count;
      }
      counter.kind = kind;
      counter.value = value;
      counters.put(key, counter);
    }
    counter.count++;
    counter.outcomes[outcome]++;
    counter.lastSeenMillis = Math.max(counter.lastSeenMillis, nowMillis);
    return counter;
  }

  /** Occurrences added so far. */
  long total() {
    return total;
  }

  /** Keys monitored now (at most the capacity). */
  int size() {
    return counters.size();
  }

  int capacity() {
    return capacity;
  }

  /** The smallest monitored count (0 while not full): an unmonitored key occurred at most this often. */
  long floor() {
    if (counters.size() < capacity) {
      return 0;
    }
    long min = Long.MAX_VALUE;
    for (Counter c : counters.values()) {
      min = Math.min(min, c.count);
    }
    return min;
  }

  Counter get(String key) {
    return counters.get(key);
  }

  /** The monitored counters, highest count first (a copy of the list; the counters are live). */
  List<Counter> sorted() {
    List<Counter> list = new ArrayList<>(counters.values());
    list.sort(Comparator.comparingLong((Counter c) -> c.count).reversed());
    return list;
  }

  Iterable<Counter> counters() {
    return counters.values();
  }
}
