package dev.sluice.benchmarks;

import dev.sluice.store.Ban;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.ManualClock;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Inserting into a full ban table and a full offence table at the default bound (1,000,000 —
 * {@code store.max_keys}), issue 9 point 3: the memory store now (an expiry-ordered set, O(log n);
 * offence records in expiry order, amortised O(1)) against the code it replaced, run in the same
 * JVM as the "before" ({@code removeIf} over the whole map, then {@code min} over it).
 *
 * <p>Steady state of a flood: the table holds 1,000,000 live entries; before each insert the clock
 * moves so that exactly the oldest entry has ended, so both versions drop one and add one.
 */
@Fork(value = 1, jvmArgsAppend = {"-Xms3g", "-Xmx3g"})
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@State(Scope.Benchmark)
@Threads(1)
public class FullTableBenchmark {

  static final int BOUND = (int) MemoryStore.DEFAULT_MAX_KEYS;
  static final long DAY_NANOS = 86_400_000_000_000L;

  /** A wall clock the benchmark moves. */
  static final class MovableInstant implements InstantSource {
    final AtomicLong millis = new AtomicLong(1_700_000_000_000L);

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public long millis() {
      return millis.get();
    }
  }

  /** The bans of the memory store as they were before (ConcurrentHashMap, scan when full). */
  static final class OldBans {
    final ConcurrentHashMap<String, Ban> bans = new ConcurrentHashMap<>();

    void put(Ban ban, long nowMillis) {
      if (!bans.containsKey(ban.id()) && bans.size() >= BOUND) {
        bans.values().removeIf(b -> !b.activeAt(nowMillis));
        if (bans.size() >= BOUND) {
          bans.values().stream()
              .min(Comparator.comparingLong(Ban::expiresAtEpochMillis))
              .ifPresent(b -> bans.remove(b.id(), b));
        }
      }
      bans.put(ban.id(), ban);
    }
  }

  /** The offence records of the memory store as they were before. */
  static final class OldOffences {
    static final class Record {
      final ArrayDeque<Long> times = new ArrayDeque<>();
      long window;

      long newest() {
        Long last = times.peekLast();
        return last == null ? Long.MIN_VALUE : last;
      }

      boolean expired(long now) {
        return times.isEmpty() || now - newest() >= window;
      }
    }

    final ConcurrentHashMap<String, Record> offences = new ConcurrentHashMap<>();

    long record(String key, long now, long window) {
      if (!offences.containsKey(key) && offences.size() >= BOUND) {
        offences.entrySet().removeIf(e -> e.getValue().expired(now));
        if (offences.size() >= BOUND) {
          offences.entrySet().stream()
              .min(Comparator.comparingLong((Map.Entry<String, Record> e) -> e.getValue().newest()))
              .ifPresent(e -> offences.remove(e.getKey(), e.getValue()));
        }
      }
      long[] count = new long[1];
      offences.compute(key, (k, r) -> {
        Record record = r != null ? r : new Record();
        record.window = window;
        record.times.addLast(now);
        count[0] = record.times.size();
        return record;
      });
      return count[0];
    }
  }

  /** Both ban tables, full; the i-th ban ends at start + i ms. */
  @State(Scope.Benchmark)
  public static class Bans {
    MovableInstant wall;
    MemoryStore store;
    OldBans old;
    long start;
    int next;
    Ban[] fresh;

    @Setup(Level.Trial)
    public void setUp() {
      wall = new MovableInstant();
      store = new MemoryStore(new ManualClock(), BOUND, wall);
      old = new OldBans();
      start = wall.millis();
      for (int i = 0; i < BOUND; i++) {
        Ban ban = Ban.penalty("login", "login", "ip:" + i, start + 1 + i, "r");
        store.putBan(ban);
        old.put(ban, start);
      }
      next = BOUND;
      // Bans made ahead (their id is a SHA-256), so the measurement is the table's work.
      fresh = new Ban[2_000_000];
      for (int i = 0; i < fresh.length; i++) {
        fresh[i] = Ban.penalty("login", "login", "ip:" + (BOUND + i), start + 1 + BOUND + i, "r");
      }
    }

    /** The next ban, after moving the clock so the oldest one held has just ended. */
    Ban advance() {
      Ban ban = fresh[(next - BOUND) % fresh.length];
      wall.millis.set(start + 1 + (next - BOUND));
      next++;
      return ban;
    }
  }

  /** Both offence tables, full; the i-th record's last offence is at i ns, window one day. */
  @State(Scope.Benchmark)
  public static class Offences {
    ManualClock clock;
    MemoryStore store;
    OldOffences old;
    long origin;
    int next;
    String[] fresh;

    @Setup(Level.Trial)
    public void setUp() {
      clock = new ManualClock();
      store = new MemoryStore(clock, BOUND);
      old = new OldOffences();
      origin = clock.nanoTime();
      for (int i = 0; i < BOUND; i++) {
        String key = "login|ip:" + i;
        store.recordOffence(key, DAY_NANOS);
        old.record(key, i, DAY_NANOS);
        clock.advance(1);
      }
      next = BOUND;
      clock.advance(DAY_NANOS - BOUND - 1); // the next advance(1) ends the oldest record
      fresh = new String[2_000_000];
      for (int i = 0; i < fresh.length; i++) {
        fresh[i] = "login|ip:" + (BOUND + i);
      }
    }
  }

  @Benchmark
  public Object banPut_sluiceNow(Bans s) {
    Ban ban = s.advance();
    return s.store.putBan(ban);
  }

  @Benchmark
  public Object banPut_before(Bans s) {
    Ban ban = s.advance();
    s.old.put(ban, s.wall.millis());
    return ban;
  }

  @Benchmark
  public Object offence_sluiceNow(Offences s) {
    // One day after the oldest record's last offence: exactly that one has expired.
    int i = s.next++;
    s.clock.advance(1);
    return s.store.recordOffence(s.fresh[(i - BOUND) % s.fresh.length], DAY_NANOS);
  }

  @Benchmark
  public long offence_before(Offences s) {
    int i = s.next++;
    long now = DAY_NANOS + (i - BOUND);
    return s.old.record(s.fresh[(i - BOUND) % s.fresh.length], now, DAY_NANOS);
  }
}
