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
import java.util.concurrent.TimeUnit;
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
 * One hot key: every call decides the same identity, the case of a single abusive client. Run
 * with one thread ({@link OneThread}) and two threads contending for the same key ({@link
 * TwoThreads}); {@code path} selects the allowed or the rejected path (see {@link Fixtures}).
 *
 * <p>{@code sluiceEngine} is the full decision (client address, policy matching, identity,
 * memory-store decision, decision object); {@code sluiceGcraStep} is the bare {@link Gcra#step}
 * on a per-thread {@code long}, with no map and no synchronisation: the floor any GCRA limiter
 * pays. The peers are one shared limiter each.
 */
// A fixed, pre-touched heap: a fresh fork otherwise pays a page fault the first time each page of
// a growing young generation is used, which taxes every limiter by its allocation rate rather
// than by its work, and no long-running gateway sees it.
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
public abstract class HotKeyBenchmark {

  @Param({"allowed", "rejected"})
  public String path;

  /** One thread on the hot key. */
  @Threads(1)
  public static class OneThread extends HotKeyBenchmark {}

  /** Two threads on the same hot key (the machine's core count in the reference runs). */
  @Threads(2)
  public static class TwoThreads extends HotKeyBenchmark {}

  /** The engine and the one request it decides over and over. */
  @State(Scope.Benchmark)
  public static class SluiceEngine {
    Engine engine;
    RequestView request;

    @Setup
    public void setUp(BenchmarkParams params) {
      boolean allowed = Fixtures.allowedPath(params.getParam("path"));
      engine = Fixtures.engine(allowed, Fixtures.HOT_PER_SECOND);
      request = Fixtures.request(Fixtures.address(1));
      Outcome first = Fixtures.decide(engine, request); // creates and, when rejecting, drains the bucket
      if (first != Outcome.ALLOWED) {
        throw new IllegalStateException("the first decision on a fresh key must be allowed, got " + first);
      }
    }
  }

  /** The memory store alone with one key: the map-plus-bucket primitive the peers are. */
  @State(Scope.Benchmark)
  public static class SluiceStore {
    MemoryStore store;
    BucketKey key;
    BucketSpec spec;

    @Setup
    public void setUp(BenchmarkParams params) {
      boolean allowed = Fixtures.allowedPath(params.getParam("path"));
      store = Fixtures.store();
      spec = Fixtures.spec(allowed, Fixtures.HOT_PER_SECOND);
      key = Fixtures.bucketKey(1);
      Fixtures.consumeFirst(store, key, spec);
    }
  }

  /** Per-thread GCRA state: the bare step is not thread-safe by design. */
  @State(Scope.Thread)
  public static class GcraState {
    Limit limit;
    long tat = Gcra.FRESH;
    long origin;

    @Setup
    public void setUp(BenchmarkParams params) {
      limit = Fixtures.sluiceLimit(Fixtures.allowedPath(params.getParam("path")), Fixtures.HOT_PER_SECOND);
      origin = System.nanoTime();
      tat = Gcra.step(tat, System.nanoTime() - origin, 1, limit).newTat();
    }
  }

  @State(Scope.Benchmark)
  public static class Bucket4jState {
    Bucket bucket;

    @Setup
    public void setUp(BenchmarkParams params) {
      bucket = Fixtures.bucket4j(Fixtures.allowedPath(params.getParam("path")), Fixtures.HOT_PER_SECOND);
    }
  }

  @State(Scope.Benchmark)
  public static class GuavaState {
    RateLimiter limiter;

    @Setup
    public void setUp(BenchmarkParams params) {
      limiter = Fixtures.guava(Fixtures.allowedPath(params.getParam("path")), Fixtures.HOT_PER_SECOND);
    }
  }

  @State(Scope.Benchmark)
  public static class Resilience4jState {
    AtomicRateLimiter limiter;

    @Setup
    public void setUp(BenchmarkParams params) {
      limiter = Fixtures.resilience4j("hot", Fixtures.allowedPath(params.getParam("path")), Fixtures.HOT_PER_SECOND);
    }
  }

  @Benchmark
  public Outcome sluiceEngine(SluiceEngine s) {
    return Fixtures.decide(s.engine, s.request);
  }

  /** The same decision through {@link Engine#decide}'s stage (a decision object per call). */
  @Benchmark
  public Outcome sluiceEngineStage(SluiceEngine s) {
    return Fixtures.decideStage(s.engine, s.request);
  }

  @Benchmark
  public boolean sluiceStore(SluiceStore s) {
    return s.store.tryConsumeNow(s.key, s.spec, 1).allowed();
  }

  @Benchmark
  public boolean sluiceGcraStep(GcraState s) {
    Gcra.Step step = Gcra.step(s.tat, System.nanoTime() - s.origin, 1, s.limit);
    s.tat = step.newTat();
    return step.allowed();
  }

  @Benchmark
  public boolean bucket4j(Bucket4jState s) {
    return s.bucket.tryConsume(1);
  }

  @Benchmark
  public boolean guava(GuavaState s) {
    return s.limiter.tryAcquire();
  }

  @Benchmark
  public boolean resilience4j(Resilience4jState s) {
    return s.limiter.acquirePermission();
  }
}
