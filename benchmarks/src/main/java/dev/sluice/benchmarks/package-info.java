/**
 * JMH benchmarks of Sluice's decision path against the usual embedded peers (Bucket4j, Guava
 * {@code RateLimiter}, Resilience4j {@code AtomicRateLimiter}), all in the same run so that the
 * reported ratios compare numbers taken on the same machine at the same time, plus a
 * memory-per-identity measurement ({@link dev.sluice.benchmarks.MemoryPerIdentity}).
 *
 * <p>Nothing here runs during the build: {@code mvn verify} compiles, checks the fixtures and
 * packages {@code target/benchmarks.jar}; {@code docs/benchmarks.md} says how to run it.
 */
package dev.sluice.benchmarks;
