package dev.sluice.store.redis;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.algorithm.Gcra;
import dev.sluice.limit.Limit;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The decision script ({@code decide.lua}): its source, its SHA-1 for EVALSHA, the arguments it
 * takes and the reply it gives. The argument layout is documented at the top of the script.
 */
final class DecisionScript {

  /**
   * The largest time span, in nanoseconds, the script computes with: 2^53, where doubles stop
   * holding every integer (~104 days). A limit whose GCRA capacity or sliding-window period is
   * longer is refused with a {@link StoreException}.
   */
  static final long MAX_HORIZON_NANOS = 1L << 53;

  static final DecisionScript INSTANCE = new DecisionScript(readScript("decide.lua"));

  private final String source;
  private final String sha;

  private DecisionScript(String source) {
    this.source = source;
    this.sha = sha1(source);
  }

  String source() {
    return source;
  }

  String sha() {
    return sha;
  }

  /**
   * The script's ARGV for one decision.
   *
   * @param testTime null for the server's TIME (production); else a test's time
   * @throws StoreException when a limit exceeds what the script computes exactly
   * @throws IllegalArgumentException when the cost is out of range for a limit, exactly like the
   *     memory store (a programming error that policy validation prevents)
   */
  String[] args(BucketSpec spec, long cost, TestTime testTime) {
    List<Limit> limits = spec.limits();
    String[] args = new String[4 + 3 * limits.size()];
    boolean gcra = spec.algorithm() == Algorithm.GCRA;
    args[0] = gcra ? "gcra" : "window";
    args[1] = Long.toString(cost);
    String[] time = timeArgs(testTime);
    args[2] = time[0];
    args[3] = time[1];
    for (int i = 0; i < limits.size(); i++) {
      Limit limit = limits.get(i);
      int at = 4 + 3 * i;
      if (gcra) {
        checkCost(cost, limit.burst(), limit);
        long capacity = Gcra.capacityNanos(limit);
        long interval = limit.emissionIntervalNanos();
        if (capacity >= MAX_HORIZON_NANOS || interval >= MAX_HORIZON_NANOS) {
          throw new StoreException(RedisMessages.horizonTooLong(limit.text(), Math.max(capacity, interval)));
        }
        args[at] = Long.toString(interval);
        args[at + 1] = Long.toString(capacity);
        args[at + 2] = Long.toString(cost * interval); // cost <= burst, so <= capacity < 2^53
      } else {
        checkCost(cost, limit.quantity(), limit);
        if (limit.periodNanos() >= MAX_HORIZON_NANOS) {
          throw new StoreException(RedisMessages.horizonTooLong(limit.text(), limit.periodNanos()));
        }
        args[at] = Long.toString(limit.periodNanos());
        args[at + 1] = Long.toString(limit.quantity());
        args[at + 2] = "0";
      }
    }
    return args;
  }

  /**
   * The script's ARGV for one decision of a policy whose limits a reload changed from {@code
   * previous}: the migration marker and, per limit, what its missing key takes over (see {@code
   * decide.lua}); {@link #sources} names the keys. Without a usable previous spec, {@link #args}.
   */
  String[] args(BucketSpec spec, long cost, TestTime testTime, BucketSpec previous) {
    String[] base = args(spec, cost, testTime);
    int[] from = sources(spec, previous);
    if (from == null) {
      return base;
    }
    int n = spec.limits().size();
    String[] args = java.util.Arrays.copyOf(base, base.length + n);
    args[0] = args[0] + "+";
    boolean gcra = spec.algorithm() == Algorithm.GCRA;
    for (int i = 0; i < n; i++) {
      args[base.length + i] = from[i] < 0 ? "0"
          : gcra ? Long.toString(previous.limits().get(from[i]).emissionIntervalNanos()) : "1";
    }
    return args;
  }

  /**
   * Per limit of {@code spec}, the index of the limit of {@code previous} whose key it takes its
   * state from when its own key is missing — the same position, or the previous spec's last limit
   * when it had fewer — or -1 when that limit is the same (its key is the same key) ; null when no
   * migration applies (no previous spec, or the algorithm changed: the keys hold different types).
   */
  static int[] sources(BucketSpec spec, BucketSpec previous) {
    if (previous == null || previous.algorithm() != spec.algorithm()) {
      return null;
    }
    int n = spec.limits().size();
    int[] from = new int[n];
    boolean any = false;
    for (int i = 0; i < n; i++) {
      int j = Math.min(i, previous.limits().size() - 1);
      Limit a = spec.limits().get(i);
      Limit b = previous.limits().get(j);
      boolean same = a.quantity() == b.quantity() && a.periodNanos() == b.periodNanos() && a.burst() == b.burst();
      from[i] = same ? -1 : j;
      any |= !same;
    }
    return any ? from : null;
  }

  /**
   * The two time arguments every script takes: {@code ["", ""]} in production (the server's
   * TIME), else the test seam's mode ({@code plus} or {@code at}) and reading
   * ({@code seconds:nanoseconds}).
   */
  static String[] timeArgs(TestTime testTime) {
    if (testTime == null) {
      return new String[] {"", ""};
    }
    long nanos = testTime.clock().nanoTime();
    return new String[] {testTime.offset() ? "plus" : "at",
        Math.floorDiv(nanos, 1_000_000_000L) + ":" + Math.floorMod(nanos, 1_000_000_000L)};
  }

  /**
   * Test seam: instead of the server's TIME, the script uses {@code clock}'s reading (when
   * {@code offset} is false) or TIME plus that reading (when true; the reading must not be
   * negative).
   */
  record TestTime(dev.sluice.time.Clock clock, boolean offset) {}

  private static void checkCost(long cost, long max, Limit limit) {
    if (cost < 1 || cost > max) {
      throw new IllegalArgumentException("cost must be between 1 and the capacity of limit \""
          + limit.text() + "\" (" + max + "), got " + cost);
    }
  }

  /** A script of this package's resources with the shared {@code clock.lua} prelude in front. */
  static String readScript(String resource) {
    return readSource("clock.lua") + "\n" + readSource(resource);
  }

  /** A resource of this package, as text. */
  private static String readSource(String resource) {
    try (InputStream in = DecisionScript.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is missing from the sluice-redis jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + resource + " from the sluice-redis jar", e);
    }
  }

  /** The SHA-1 Redis names a script by (EVALSHA). */
  static String sha1(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM provides SHA-1", e);
    }
  }
}
