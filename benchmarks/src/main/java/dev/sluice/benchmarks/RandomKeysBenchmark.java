package dev.sluice.benchmarks;

import com.google.common.util.concurrent.RateLimiter;
import dev.sluice.algorithm.Gcra;
import dev.sluice.engine.Engine;
import dev.sluice.engine.Outcome;
import dev.sluice.limit.Limit;
import dev.sluice.request.RequestView;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.MemoryStore;
import io.github.bucket4j.Bucket;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * 1,000,000 keys, each call picks one uniformly at random: the case of many clients, where the
 * per-key map and cache misses dominate. Every key is created (and on the rejected path drained)
 * during setup, so the measurement sees only existing keys.
 *
 * <p>Peers use the usual per-key pattern, {@code map.computeIfAbsent(key, factory).tryX()} on a
 * {@link ConcurrentHashMap}; the bare GCRA step uses a {@code long[]} indexed by key (no map at
 * all, single-threaded): the floor.
 */
// A fixed, pre-touched heap: a fresh fork otherwise pays a page fault the first time each page of
// a growing young generation is used, which taxes every limiter by its allocation rate rather
// than by its work, and no long-running gateway sees it.
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Threads(1)
public class RandomKeysBenchmark {

  @Param({"allowed", "rejected"})
  public String path;

  static int randomKey() {
    return ThreadLocalRandom.current().nextInt(Fixtures.RANDOM_KEYS);
  }

  @State(Scope.Benchmark)
  public static class SluiceEngine {
    Engine engine;
    RequestView[] requests;

    @Setup
    public void setUp(BenchmarkParams params) {
      engine = Fixtures.engine(Fixtures.allowedPath(params.getParam("path")), Fixtures.RANDOM_PER_SECOND);
      requests = new RequestView[Fixtures.RANDOM_KEYS];
      for (int i = 0; i < requests.length; i++) {
        requests[i] = Fixtures.request(Fixtures.address(i));
        Outcome first = Fixtures.decide(engine, requests[i]);
        if (first != Outcome.ALLOWED) {
          throw new IllegalStateException("first decision of key " + i + " must be allowed, got " + first);
        }
      }
    }
  }

  /** The memory store alone: the map-plus-bucket primitive the peers are, keyed like them. */
  @State(Scope.Benchmark)
  public static class SluiceStore {
    MemoryStore store;
    BucketSpec spec;
    BucketKey[] keys;

    @Setup
    public void setUp(BenchmarkParams params) {
      boolean allowed = Fixtures.allowedPath(params.getParam("path"));
      store = Fixtures.store();
      spec = Fixtures.spec(allowed, Fixtures.RANDOM_PER_SECOND);
      keys = new BucketKey[Fixtures.RANDOM_KEYS];
      for (int i = 0; i < keys.length; i++) {
        keys[i] = Fixtures.bucketKey(i);
        Fixtures.consumeFirst(store, keys[i], spec);
      }
    }
  }

  @State(Scope.Benchmark)
  public static class GcraState {
    Limit limit;
    long[] tats;
    long origin;

    @Setup
    public void setUp(BenchmarkParams params) {
      limit = Fixtures.sluiceLimit(Fixtures.allowedPath(params.getParam("path")), Fixtures.RANDOM_PER_SECOND);
      origin = System.nanoTime();
      tats = new long[Fixtures.RANDOM_KEYS];
      Arrays.fill(tats, Gcra.FRESH);
      for (int i = 0; i < tats.length; i++) {
        tats[i] = Gcra.step(tats[i], System.nanoTime() - origin, 1, limit).newTat();
      }
    }
  }

  /** The keys every peer map is indexed by, and the map itself. */
  public abstract static class PeerMap<L> {
    final ConcurrentHashMap<String, L> map = new ConcurrentHashMap<>();
    String[] keys;
    Function<String, L> factory;

    void fill(Function<String, L> newLimiter) {
      factory = newLimiter;
      keys = new String[Fixtures.RANDOM_KEYS];
      for (int i = 0; i < keys.length; i++) {
        keys[i] = Fixtures.identityKey(i);
        map.computeIfAbsent(keys[i], factory);
      }
    }

    L limiter() {
      return map.computeIfAbsent(keys[randomKey()], factory);
    }
  }

  @State(Scope.Benchmark)
  public static class Bucket4jState extends PeerMap<Bucket> {
    @Setup
    public void setUp(BenchmarkParams params) {
      boolean allowed = Fixtures.allowedPath(params.getParam("path"));
      fill(key -> Fixtures.bucket4j(allowed, Fixtures.RANDOM_PER_SECOND));
    }
  }

  @State(Scope.Benchmark)
  public static class GuavaState extends PeerMap<RateLimiter> {
    @Setup
    public void setUp(BenchmarkParams params) {
      boolean allowed = Fixtures.allowedPath(params.getParam("path"));
      fill(key -> Fixtures.guava(allowed, Fixtures.RANDOM_PER_SECOND));
    }
  }

  @State(Scope.Benchmark)
  public static class Resilience4jState extends PeerMap<AtomicRateLimiter> {
    @Setup
    public void setUp(BenchmarkParams params) {
      boolean allowed = Fixtures.allowedPath(params.getParam("path"));
      fill(key -> Fixtures.resilience4j(key, allowed, Fixtures.RANDOM_PER_SECOND));
    }
  }

  @Benchmark
  public Outcome sluiceEngine(SluiceEngine s) {
    return Fixtures.decide(s.engine, s.requests[randomKey()]);
  }

  @Benchmark
  public boolean sluiceStore(SluiceStore s) {
    return s.store.tryConsumeNow(s.keys[randomKey()], s.spec, 1).allowed();
  }

  @Benchmark
  public boolean sluiceGcraStep(GcraState s) {
    int key = randomKey();
    Gcra.Step step = Gcra.step(s.tats[key], System.nanoTime() - s.origin, 1, s.limit);
    s.tats[key] = step.newTat();
    return step.allowed();
  }

  @Benchmark
  public boolean bucket4j(Bucket4jState s) {
    return s.limiter().tryConsume(1);
  }

  @Benchmark
  public boolean guava(GuavaState s) {
    return s.limiter().tryAcquire();
  }

  @Benchmark
  public boolean resilience4j(Resilience4jState s) {
    return s.limiter().acquirePermission();
  }
}
