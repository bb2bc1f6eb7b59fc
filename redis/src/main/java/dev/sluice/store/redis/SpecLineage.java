package dev.sluice.store.redis;

import dev.sluice.limit.Limit;
import dev.sluice.store.BucketSpec;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which limits each policy had before a reload changed them, as this instance saw it: the Redis
 * key of a limit holds its values ({@code gcra:N/period/B}), so a changed limit has a new, missing
 * key, and the decision script fills it from the old key (the used tokens carried over; see {@code
 * decide.lua} and docs/algorithms.md) instead of granting a fresh burst.
 *
 * <p>One map lookup and a reference compare per decision (the engine keeps one spec object per
 * policy and version). When requests of two versions overlap for a moment during a swap, the
 * "previous" spec may flip back and forth; that only changes which old key a missing key would be
 * filled from, and only until the new key exists. Instance-local: an instance started with the
 * new file never saw the old one, and its missing keys start full.
 */
final class SpecLineage {
  private record Entry(BucketSpec current, BucketSpec previous) {}

  private final ConcurrentHashMap<String, Entry> byPolicy = new ConcurrentHashMap<>();

  /** The spec {@code policy} had before {@code spec}, or null when none differs. */
  BucketSpec previousOf(String policy, BucketSpec spec) {
    Entry e = byPolicy.get(policy);
    if (e != null && e.current == spec) {
      return e.previous;
    }
    Entry next = byPolicy.compute(policy, (k, old) -> {
      if (old == null) {
        return new Entry(spec, null);
      }
      if (old.current == spec) {
        return old;
      }
      if (same(old.current, spec)) {
        return new Entry(spec, old.previous); // the same limits in a new version's object
      }
      return new Entry(spec, old.current);
    });
    return next.previous;
  }

  private static boolean same(BucketSpec a, BucketSpec b) {
    List<Limit> x = a.limits();
    List<Limit> y = b.limits();
    if (a.algorithm() != b.algorithm() || x.size() != y.size()) {
      return false;
    }
    for (int i = 0; i < x.size(); i++) {
      Limit p = x.get(i);
      Limit q = y.get(i);
      if (p.quantity() != q.quantity() || p.periodNanos() != q.periodNanos() || p.burst() != q.burst()) {
        return false;
      }
    }
    return true;
  }
}
