package dev.sluice.analysis.replay;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Counts events per key with bounded memory: exact while at most {@code capacity} distinct keys
 * were seen; beyond that, when full, the less counted half is dropped (a heavy hitter keeps its
 * place, a key that comes back after being dropped starts again from zero), and {@link
 * #approximate()} says so. Keeps each key's first event time. Not thread-safe.
 */
public final class TopCounter {
  private final int capacity;
  private final Map<String, Entry> entries = new HashMap<>();
  private boolean approximate;

  /** One key's count and first event. */
  public record Top(String key, long count, long firstNanos) {}

  private static final class Entry {
    long count;
    final long firstNanos;

    Entry(long firstNanos) {
      this.firstNanos = firstNanos;
    }
  }

  public TopCounter(int capacity) {
    if (capacity < 2) {
      throw new IllegalArgumentException("capacity must be at least 2, got " + capacity);
    }
    this.capacity = capacity;
  }

  /** Counts one event of {@code key} at {@code nanos}. */
  public void add(String key, long nanos) {
    Entry e = entries.get(key);
    if (e == null) {
      if (entries.size() >= capacity) {
        shrink();
      }
      e = new Entry(nanos);
      entries.put(key, e);
    }
    e.count++;
  }

  private void shrink() {
    approximate = true;
    List<Map.Entry<String, Entry>> all = new ArrayList<>(entries.entrySet());
    all.sort(Comparator.comparingLong(m -> m.getValue().count));
    for (int i = 0; i < all.size() / 2; i++) {
      entries.remove(all.get(i).getKey());
    }
  }

  /** The {@code n} most counted keys, most first (ties: earlier first event, then key). */
  public List<Top> top(int n) {
    return entries.entrySet().stream()
        .map(m -> new Top(m.getKey(), m.getValue().count, m.getValue().firstNanos))
        .sorted(Comparator.comparingLong(Top::count).reversed().thenComparingLong(Top::firstNanos)
            .thenComparing(Top::key))
        .limit(n)
        .toList();
  }

  /** Whether keys were dropped (counts are then lower bounds, and the list may miss a key). */
  public boolean approximate() {
    return approximate;
  }
}
