package dev.sluice.store;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link MemoryStore}'s concurrency permits: the lease ends held per key, updated atomically
 * per key with {@link ConcurrentHashMap#compute}. A key exists only while requests are in flight
 * (or until their lease ends).
 */
final class PermitTable {
  private final ConcurrentHashMap<String, Permits> permits = new ConcurrentHashMap<>();

  /** Takes a permit unless {@code max} are held at {@code now}; whether it was taken. */
  boolean acquire(String key, int max, long leaseNanos, long now) {
    boolean[] acquired = new boolean[1];
    permits.compute(key, (k, held) -> {
      Permits p = held != null ? held : new Permits();
      acquired[0] = p.acquire(now, max, leaseNanos);
      return p.isEmpty() ? null : p;
    });
    return acquired[0];
  }

  /** Returns the permit of {@code key} whose lease ends soonest; see {@link MemoryStore#releasePermit}. */
  void release(String key) {
    permits.computeIfPresent(key, (k, p) -> p.release() ? p : null);
  }

  /** Permits currently held for {@code key} at {@code now} (expired leases excluded). */
  int held(String key, long now) {
    Permits p = permits.get(key);
    if (p == null) {
      return 0;
    }
    synchronized (p) {
      return p.live(now);
    }
  }

  /** Keys with permits held or leased. */
  int keys() {
    return permits.size();
  }

  /** Lease ends of the permits held for one key; guarded by the map's compute. */
  private static final class Permits {
    private long[] leaseEnds = new long[4];
    private int count;

    synchronized boolean acquire(long now, int max, long leaseNanos) {
      purge(now);
      if (count >= max) {
        return false;
      }
      if (count == leaseEnds.length) {
        leaseEnds = Arrays.copyOf(leaseEnds, count * 2);
      }
      leaseEnds[count++] = now + leaseNanos;
      return true;
    }

    /** Returns the permit whose lease ends soonest; false when none is left. */
    synchronized boolean release() {
      if (count > 0) {
        int soonest = 0;
        for (int i = 1; i < count; i++) {
          if (leaseEnds[i] < leaseEnds[soonest]) {
            soonest = i;
          }
        }
        leaseEnds[soonest] = leaseEnds[--count];
      }
      return count > 0;
    }

    synchronized int live(long now) {
      purge(now);
      return count;
    }

    synchronized boolean isEmpty() {
      return count == 0;
    }

    private void purge(long now) {
      for (int i = 0; i < count; ) {
        if (leaseEnds[i] <= now) {
          leaseEnds[i] = leaseEnds[--count];
        } else {
          i++;
        }
      }
    }
  }
}
