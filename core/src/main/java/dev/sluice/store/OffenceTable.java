package dev.sluice.store;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The memory store's offence records, bounded per policy without evicting a live record.
 *
 * <p>An offence key is {@code <policy>|<identity>} (the engine's layout; a key without {@code |} is
 * its own policy). Each policy holds at most one share of records, and the table at most {@code
 * maxKeys}. A record lives for one window after its last offence; a new key that finds its share
 * (or the table) full of live records is refused with a {@link PenaltyRefusedException} — the
 * escalation of other identities is never reset to make room.
 *
 * <p>Cost: each share keeps its records in the order of their last offence (a linked map in access
 * order), which is the order they expire in, so expired records are dropped from its head:
 * amortised O(1) per offence, never a scan. (A reload that changes a policy's window can leave an
 * expired record behind a live one for a while; it then counts against the share until it
 * reaches the head.) Thread-safe: one lock per policy; offences are rare (only on trips).
 */
final class OffenceTable {

  /** Offence timestamps kept per key; the count saturates here (escalation has long reached max). */
  static final int MAX_OFFENCES_PER_KEY = 1024;

  private final long maxKeys;
  private volatile long shareCap;
  private final ConcurrentHashMap<String, Share> byPolicy = new ConcurrentHashMap<>();
  private final AtomicLong total = new AtomicLong();
  private final LongAdder refused = new LongAdder();

  private static final class Share {
    final String policy;
    /** Offence key → record, least recently offended first. */
    final LinkedHashMap<String, Offences> records = new LinkedHashMap<>(16, 0.75f, true);
    PenaltyRefusedException refusal;

    Share(String policy) {
      this.policy = policy;
    }
  }

  OffenceTable(long maxKeys) {
    this.maxKeys = maxKeys;
    this.shareCap = maxKeys;
  }

  void usePolicies(int policies) {
    shareCap = Math.max(1, maxKeys / Math.max(1, policies));
  }

  /**
   * Records one offence of {@code key} at {@code now} and returns the offences within {@code
   * window}, this one included.
   *
   * @throws PenaltyRefusedException when {@code key} has no record and no room is left for one
   */
  long record(String key, long now, long window) {
    Share share = share(key);
    synchronized (share) {
      Offences record = share.records.get(key); // moves it to the tail: offended last
      if (record == null) {
        prune(share, now);
        long cap = shareCap;
        if (share.records.size() >= cap || !reserve()) {
          refused.increment();
          if (share.refusal == null || !share.refusal.getMessage().contains("share of " + cap + " ")) {
            share.refusal = new PenaltyRefusedException(share.policy, "offence records", cap);
          }
          throw share.refusal;
        }
        record = new Offences();
        share.records.put(key, record);
      }
      return record.record(now, window);
    }
  }

  /** Forgets the offences of {@code key}; whether it had a record. */
  boolean remove(String key) {
    Share share = byPolicy.get(policyOf(key));
    if (share == null) {
      return false;
    }
    synchronized (share) {
      if (share.records.remove(key) != null) {
        total.decrementAndGet();
        return true;
      }
      return false;
    }
  }

  /** Every record, ages relative to {@code now} (for a snapshot). */
  void export(long now, java.util.function.Consumer<BucketState.Offences> sink) {
    for (Share share : byPolicy.values()) {
      synchronized (share) {
        share.records.forEach((key, r) -> {
          long[] ages = r.times.stream().mapToLong(t -> now - t).toArray();
          sink.accept(new BucketState.Offences(key, r.window, ages));
        });
      }
    }
  }

  /** Adds a snapshot's record unless its key has one or its share (or the table) has no room. */
  void importRecord(BucketState.Offences record, long now) {
    Share share = share(record.key());
    synchronized (share) {
      if (share.records.containsKey(record.key())) {
        return;
      }
      prune(share, now);
      if (share.records.size() >= shareCap || !reserve()) {
        return;
      }
      Offences r = new Offences();
      r.window = record.windowNanos();
      for (long age : record.ages()) {
        r.times.addLast(now - age);
      }
      share.records.put(record.key(), r);
    }
  }

  /** New offence records refused because their share (or the table) was full. */
  long refused() {
    return refused.sum();
  }

  /** Records held, live or not yet pruned. */
  long size() {
    return total.get();
  }

  private boolean reserve() {
    while (true) {
      long n = total.get();
      if (n >= maxKeys) {
        return false;
      }
      if (total.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  private void prune(Share share, long now) {
    Iterator<Offences> it = share.records.values().iterator();
    while (it.hasNext()) {
      if (!it.next().expired(now)) {
        return;
      }
      it.remove();
      total.decrementAndGet();
    }
  }

  private Share share(String key) {
    String policy = policyOf(key);
    Share share = byPolicy.get(policy);
    return share != null ? share : byPolicy.computeIfAbsent(policy, Share::new);
  }

  private static String policyOf(String key) {
    int bar = key.indexOf('|');
    return bar < 0 ? key : key.substring(0, bar);
  }

  /** One key's recent offences (store time), oldest first; guarded by its share's lock. */
  private static final class Offences {
    private final ArrayDeque<Long> times = new ArrayDeque<>();
    private long window;

    long record(long now, long windowNanos) {
      window = windowNanos;
      while (!times.isEmpty() && now - times.peekFirst() >= windowNanos) {
        times.pollFirst();
      }
      if (times.size() == MAX_OFFENCES_PER_KEY) {
        times.pollFirst();
      }
      times.addLast(now);
      return times.size();
    }

    boolean expired(long now) {
      Long last = times.peekLast();
      return last == null || now - last >= window;
    }
  }
}
