package dev.sluice.benchmarks;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.Clock;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;

/**
 * Heap retained per tracked identity: used heap after a forced GC with N keys held, minus used heap
 * after a forced GC before they were created, divided by N. Measured for Sluice's memory store
 * and, the same way, for the usual per-key map of each peer.
 *
 * <p>The count includes everything one more client costs: the key text ({@code ip:10.a.b.c}, as
 * the engine builds it), the map entry and table slot, and the limiter state. Sluice's key is a
 * {@link BucketKey} (policy name shared, identity text per key).
 *
 * <p>Usage: {@code java -Xmx4g -cp benchmarks/target/benchmarks.jar
 * dev.sluice.benchmarks.MemoryPerIdentity [keys]} (default 1,000,000). Prints a markdown table.
 */
public final class MemoryPerIdentity {

  private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

  private MemoryPerIdentity() {}

  public static void main(String[] args) throws InterruptedException {
    int keys = args.length > 0 ? Integer.parseInt(args[0]) : Fixtures.RANDOM_KEYS;
    System.out.println("| limiter (" + keys + " keys) | bytes per identity |");
    System.out.println("|---|---:|");
    row("Sluice MemoryStore (GCRA, 1 limit)", keys, MemoryPerIdentity::sluice);
    row("Bucket4j lock-free bucket in ConcurrentHashMap", keys,
        n -> peer(n, i -> Fixtures.bucket4j(true, Fixtures.RANDOM_PER_SECOND)));
    row("Guava RateLimiter in ConcurrentHashMap", keys,
        n -> peer(n, i -> Fixtures.guava(true, Fixtures.RANDOM_PER_SECOND)));
    row("Resilience4j AtomicRateLimiter in ConcurrentHashMap", keys,
        n -> peer(n, i -> Fixtures.resilience4j(Fixtures.identityKey(i), true, Fixtures.RANDOM_PER_SECOND)));
  }

  private static void row(String name, int keys, IntFunction<Object> build)
      throws InterruptedException {
    long before = usedAfterGc();
    Object held = build.apply(keys);
    long after = usedAfterGc();
    double perKey = (double) (after - before) / keys;
    System.out.printf(Locale.ROOT, "| %s | %.1f |%n", name, perKey);
    // Keeps the structure reachable until the measurement above is taken.
    if (held.hashCode() == 42) {
      System.out.print("");
    }
  }

  private static Object sluice(int keys) {
    MemoryStore store = new MemoryStore(Clock.system(), keys);
    BucketSpec spec = new BucketSpec(Algorithm.GCRA, List.of(Fixtures.sluiceLimit(true, Fixtures.RANDOM_PER_SECOND)));
    for (int i = 0; i < keys; i++) {
      store.tryConsume(new BucketKey("api", Fixtures.identityKey(i)), spec, 1);
    }
    if (store.size() != keys) {
      throw new IllegalStateException("expected " + keys + " buckets, the store holds " + store.size());
    }
    return store;
  }

  private static <L> Object peer(int keys, IntFunction<L> limiter) {
    ConcurrentHashMap<String, L> map = new ConcurrentHashMap<>();
    for (int i = 0; i < keys; i++) {
      int index = i;
      map.computeIfAbsent(Fixtures.identityKey(i), k -> limiter.apply(index));
    }
    return map;
  }

  private static long usedAfterGc() throws InterruptedException {
    long used = Long.MAX_VALUE;
    // Several collections: the first may only promote; keep the smallest reading.
    for (int i = 0; i < 4; i++) {
      MEMORY.gc();
      Thread.sleep(100);
      used = Math.min(used, MEMORY.getHeapMemoryUsage().getUsed());
    }
    return used;
  }
}
