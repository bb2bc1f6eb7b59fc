package dev.sluice.benchmarks;

import com.google.common.util.concurrent.RateLimiter;
import dev.sluice.algorithm.Algorithm;
import dev.sluice.engine.Engine;
import dev.sluice.engine.Outcome;
import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.request.RequestView;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.Clock;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.local.SynchronizationStrategy;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;

/**
 * The limiters under test, each configured for one of two paths so that every benchmark measures
 * the path it claims to:
 *
 * <ul>
 *   <li><b>allowed</b>: N per second with burst N (for Sluice, whose limits take at most one token
 *       a microsecond, 1,000,000 per second with a burst no run drains), above what one key can reach, so every call
 *       is admitted: N = {@link #HOT_PER_SECOND} for the hot key (which sees millions of calls
 *       per second), N = {@link #RANDOM_PER_SECOND}, a usual API limit, for the random keys (each
 *       key sees a call about every millionth operation). A huge N on every key would push some
 *       peers (Bucket4j) into their overflow-safe refill arithmetic, which no real limit hits;
 *   <li><b>rejected</b>: 1 per hour with burst 1, already consumed once, so every call is denied.
 * </ul>
 *
 * <p>Keys are client IPv4 addresses {@code 10.a.b.c}, the commonest gateway identity. The peers
 * are keyed by the same identity text Sluice uses ({@code ip:10.a.b.c}), so the per-key map
 * costs compare like with like; Sluice additionally derives that text from the request on every
 * decision (that is part of its "full decision").
 */
final class Fixtures {

  /** Distinct keys of the random-key benchmarks and of the memory measurement. */
  static final int RANDOM_KEYS = 1_000_000;

  /** The allowed-path rate of the hot key. */
  static final long HOT_PER_SECOND = 1_000_000_000L;

  /** The allowed-path rate of each random key. */
  static final long RANDOM_PER_SECOND = 100;
  private static final IdentitySpec IP = new IdentitySpec(IdentityKind.IP, null);

  private Fixtures() {}

  static boolean allowedPath(String path) {
    return switch (path) {
      case "allowed" -> true;
      case "rejected" -> false;
      default -> throw new IllegalArgumentException(
          "benchmark path must be \"allowed\" or \"rejected\", got \"" + path + "\"");
    };
  }

  /** The address of key {@code i} (0 <= i < 2^24): 10.a.b.c. */
  static InetAddress address(int i) {
    byte[] b = {10, (byte) (i >>> 16), (byte) (i >>> 8), (byte) i};
    try {
      return InetAddress.getByAddress(b);
    } catch (UnknownHostException e) {
      throw new AssertionError("a 4-byte address is always valid", e);
    }
  }

  /** The identity text of key {@code i}, as Sluice builds it ({@code Identity.key()}). */
  static String identityKey(int i) {
    return "ip:10." + ((i >>> 16) & 255) + "." + ((i >>> 8) & 255) + "." + (i & 255);
  }

  // ------------------------------------------------------------------ Sluice

  static Limit sluiceLimit(boolean allowed, long perSecond) {
    if (!allowed) {
      return new Limit(1, Duration.ofHours(1).toNanos(), 1, "1/hour");
    }
    // Sluice takes at most one token a microsecond (Limit.MIN_INTERVAL_NANOS); above that the hot
    // key gets the fastest rate with the largest burst the bounds allow (9 billion tokens, more
    // than any run consumes), so every call is still admitted and the GCRA step is the same.
    long second = Duration.ofSeconds(1).toNanos();
    long fastest = second / Limit.MIN_INTERVAL_NANOS;
    if (perSecond <= fastest) {
      return Limit.of(perSecond, Duration.ofSeconds(1));
    }
    return new Limit(fastest, second, Limit.MAX_CAPACITY_NANOS / Limit.MIN_INTERVAL_NANOS, null);
  }

  /**
   * The full engine as the gateway builds it: one policy on {@code /api/**} by {@code ip}, the
   * default identity resolver (no trusted proxies), the bounded memory store with its default
   * bound, the system clock and no listener.
   */
  static Engine engine(boolean allowed, long perSecond) {
    Policy policy = Policy.builder("api")
        .paths(List.of("/api/**"))
        .by(List.of(IP))
        .limits(List.of(sluiceLimit(allowed, perSecond)))
        .build();
    PolicySet policies = PolicySet.builder()
        .identity(IdentityResolver.builder().build())
        .policy(policy)
        .build();
    return Engine.builder()
        .policies(policies)
        .store(store())
        .clock(Clock.system())
        .build();
  }

  /** The memory store every Sluice fixture uses: default bound, system clock. */
  static MemoryStore store() {
    return new MemoryStore(Clock.system(), MemoryStore.DEFAULT_MAX_KEYS);
  }

  /** The bucket of the engine's policy: one GCRA limit. */
  static BucketSpec spec(boolean allowed, long perSecond) {
    return new BucketSpec(Algorithm.GCRA, List.of(sluiceLimit(allowed, perSecond)));
  }

  /** The bucket key the engine uses for key {@code i}: policy {@code api}, identity text. */
  static BucketKey bucketKey(int i) {
    return new BucketKey("api", identityKey(i));
  }

  /** Creates the bucket and, on the rejected path, drains it: the first call must be admitted. */
  static void consumeFirst(MemoryStore store, BucketKey key, BucketSpec spec) {
    if (!store.tryConsumeNow(key, spec, 1).allowed()) {
      throw new IllegalStateException("the first decision on a fresh key must be allowed: " + key);
    }
  }

  /**
   * Decides synchronously, as the gateway does: {@link Engine#decideNow} (the memory store
   * answers at once; the commonest answers are shared and allocate nothing).
   */
  static Outcome decide(Engine engine, RequestView request) {
    return engine.decideNow(request).outcome();
  }

  /** Decides through the stage API ({@link Engine#decide}): one immutable decision per call. */
  static Outcome decideStage(Engine engine, RequestView request) {
    return engine.decide(request).toCompletableFuture().getNow(null).outcome();
  }

  static RequestView request(InetAddress peer) {
    return new BenchRequest(peer);
  }

  // ------------------------------------------------------------------ peers

  /** Bucket4j's usual per-key bucket: local, lock-free (its default strategy, made explicit). */
  static Bucket bucket4j(boolean allowed, long perSecond) {
    Bucket bucket = Bucket.builder()
        .addLimit(allowed
            ? l -> l.capacity(perSecond).refillGreedy(perSecond, Duration.ofSeconds(1))
            : l -> l.capacity(1).refillGreedy(1, Duration.ofHours(1)))
        .withSynchronizationStrategy(SynchronizationStrategy.LOCK_FREE)
        .build();
    if (!allowed) {
      bucket.tryConsume(1);
    }
    return bucket;
  }

  /** Guava's smooth-bursty limiter; {@code tryAcquire()} never waits. */
  static RateLimiter guava(boolean allowed, long perSecond) {
    RateLimiter limiter = RateLimiter.create(allowed ? perSecond : 1.0 / 3600);
    if (!allowed) {
      limiter.tryAcquire();
    }
    return limiter;
  }

  private static final RateLimiterConfig R4J_REJECTED = RateLimiterConfig.custom()
      .limitForPeriod(1)
      .limitRefreshPeriod(Duration.ofHours(1))
      .timeoutDuration(Duration.ZERO)
      .build();

  /** Resilience4j's lock-free limiter; zero timeout, so {@code acquirePermission()} never waits. */
  static AtomicRateLimiter resilience4j(String name, boolean allowed, long perSecond) {
    AtomicRateLimiter limiter = new AtomicRateLimiter(name, allowed ? r4jAllowed(perSecond) : R4J_REJECTED);
    if (!allowed) {
      limiter.acquirePermission();
    }
    return limiter;
  }

  private static final RateLimiterConfig R4J_HOT = r4jConfig(HOT_PER_SECOND);
  private static final RateLimiterConfig R4J_RANDOM = r4jConfig(RANDOM_PER_SECOND);

  private static RateLimiterConfig r4jAllowed(long perSecond) {
    // Shared configs: one config object per limiter would inflate the memory comparison.
    return perSecond == HOT_PER_SECOND ? R4J_HOT
        : perSecond == RANDOM_PER_SECOND ? R4J_RANDOM : r4jConfig(perSecond);
  }

  private static RateLimiterConfig r4jConfig(long perSecond) {
    return RateLimiterConfig.custom()
        .limitForPeriod(Math.toIntExact(perSecond))
        .limitRefreshPeriod(Duration.ofSeconds(1))
        .timeoutDuration(Duration.ZERO)
        .build();
  }

  /** A GET on a limited route from one peer, with no headers: what the gateway hands the engine. */
  private record BenchRequest(InetAddress peerAddress) implements RequestView {
    @Override
    public String method() {
      return "GET";
    }

    @Override
    public String path() {
      return "/api/items";
    }

    @Override
    public String rawQuery() {
      return null;
    }

    @Override
    public List<String> headers(String name) {
      return List.of();
    }
  }
}
