package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.LimitParser;
import dev.sluice.time.ManualClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemorySnapshotTest {
  private static final BucketSpec FIVE_PER_MINUTE = new BucketSpec(Algorithm.GCRA, List.of(LimitParser.parse("5/minute")));
  private static final BucketSpec WINDOW = new BucketSpec(Algorithm.SLIDING_WINDOW,
      List.of(LimitParser.parse("3/minute"), LimitParser.parse("10/hour")));
  private static final BucketSpec TWO = new BucketSpec(Algorithm.GCRA,
      List.of(LimitParser.parse("5/minute"), LimitParser.parse("20/hour")));

  @TempDir Path dir;
  private final AtomicLong wallMillis = new AtomicLong(1_700_000_000_000L);
  private final InstantSource wall = () -> Instant.ofEpochMilli(wallMillis.get());

  private MemoryStore store(ManualClock clock) {
    return new MemoryStore(clock, 1000, wall);
  }

  private static boolean consume(MemoryStore store, String id, BucketSpec spec) {
    return store.tryConsumeNow(new BucketKey("p", id), spec, 1).allowed();
  }

  @Test
  void writeThenRead_bansOffencesAndUsedUpBuckets_surviveInAnotherStore() throws Exception {
    MemoryStore before = store(new ManualClock());
    for (int i = 0; i < 5; i++) {
      consume(before, "ip:1", FIVE_PER_MINUTE);
      consume(before, "ip:3", TWO);
    }
    for (int i = 0; i < 3; i++) {
      consume(before, "ip:2", WINDOW);
    }
    before.putBan(Ban.of("p", "ip:9", wallMillis.get() + 600_000, "test"));
    before.recordOffence("p|ip:9", Duration.ofHours(24).toNanos());
    before.recordOffence("p|ip:9", Duration.ofHours(24).toNanos());
    Path file = dir.resolve("store.snapshot");

    MemorySnapshot.Report written = MemorySnapshot.write(file, before, wall);
    wallMillis.addAndGet(1_000);
    ManualClock otherOrigin = new ManualClock();
    otherOrigin.advance(Duration.ofDays(3));
    MemoryStore after = store(otherOrigin);
    MemorySnapshot.Report read = MemorySnapshot.read(file, after, wall);

    assertThat(written).isEqualTo(new MemorySnapshot.Report(1, 1, 3, 0, ""));
    assertThat(read).isEqualTo(new MemorySnapshot.Report(1, 1, 3, 0, ""));
    assertThat(consume(after, "ip:1", FIVE_PER_MINUTE)).as("used-up bucket stays used up").isFalse();
    assertThat(consume(after, "ip:2", WINDOW)).as("window log restored").isFalse();
    assertThat(consume(after, "ip:3", TWO)).as("two-limit bucket restored").isFalse();
    assertThat(consume(after, "ip:4", FIVE_PER_MINUTE)).as("a fresh identity").isTrue();
    assertThat(after.listBans().toCompletableFuture().join()).extracting(Ban::identity).containsExactly("ip:9");
    assertThat(after.recordOffence("p|ip:9", Duration.ofHours(24).toNanos()).toCompletableFuture().join())
        .as("the third offence, not the first").isEqualTo(3);
  }

  @Test
  void read_timePassedWhileDown_refillsTheBuckets() throws Exception {
    MemoryStore before = store(new ManualClock());
    for (int i = 0; i < 5; i++) {
      consume(before, "ip:1", FIVE_PER_MINUTE);
    }
    Path file = dir.resolve("s");
    MemorySnapshot.write(file, before, wall);
    wallMillis.addAndGet(61_000);

    MemoryStore after = store(new ManualClock());
    MemorySnapshot.Report read = MemorySnapshot.read(file, after, wall);

    assertThat(read.buckets()).as("refilled while down: nothing to restore").isZero();
    assertThat(consume(after, "ip:1", FIVE_PER_MINUTE)).isTrue();
  }

  @Test
  void read_truncatedCorruptForeignOrMissing_isIgnoredWithAReason() throws Exception {
    MemoryStore before = store(new ManualClock());
    for (int i = 0; i < 5; i++) {
      consume(before, "ip:" + i, FIVE_PER_MINUTE);
    }
    Path file = dir.resolve("s");
    MemorySnapshot.write(file, before, wall);
    byte[] good = Files.readAllBytes(file);

    Files.write(file, Arrays.copyOf(good, good.length - 10));
    assertThat(MemorySnapshot.read(file, store(new ManualClock()), wall).ignored()).contains("truncated");
    byte[] flipped = good.clone();
    flipped[flipped.length - 40] ^= 1;
    Files.write(file, flipped);
    assertThat(MemorySnapshot.read(file, store(new ManualClock()), wall).ignored()).contains("checksum");
    Files.writeString(file, "version: 1\n");
    assertThat(MemorySnapshot.read(file, store(new ManualClock()), wall).ignored())
        .isEqualTo("it is not a Sluice memory-store snapshot");
    byte[] future = good.clone();
    future[26] = 9; // the format version's low byte
    Files.write(file, future);
    assertThat(MemorySnapshot.read(file, store(new ManualClock()), wall).ignored())
        .isEqualTo("it has format version 9; this Sluice reads version 1");
    assertThat(MemorySnapshot.read(dir.resolve("none"), store(new ManualClock()), wall).ignored()).isEqualTo("no such file");
  }

  @Test
  void write_sizeBound_leavesBucketsOutAndCountsThem() throws Exception {
    MemoryStore before = store(new ManualClock());
    for (int i = 0; i < 100; i++) {
      consume(before, "ip:" + i, FIVE_PER_MINUTE);
    }
    Path file = dir.resolve("s");

    MemorySnapshot.Report written = MemorySnapshot.write(file, before, wall, 1_000, Duration.ofSeconds(10), System::nanoTime);

    assertThat(written.buckets()).isBetween(1, 99);
    assertThat(written.buckets() + written.leftOut()).isEqualTo(100);
    assertThat(MemorySnapshot.read(file, store(new ManualClock()), wall).buckets()).isEqualTo(written.buckets());
  }

  @Test
  void write_timeBudgetSpent_leavesTheRestOut() throws Exception {
    MemoryStore before = store(new ManualClock());
    for (int i = 0; i < 10; i++) {
      consume(before, "ip:" + i, FIVE_PER_MINUTE);
    }
    AtomicLong nanos = new AtomicLong();
    Path file = dir.resolve("s");

    MemorySnapshot.Report written = MemorySnapshot.write(file, before, wall, MemorySnapshot.DEFAULT_MAX_BYTES,
        Duration.ofSeconds(1), () -> nanos.addAndGet(300_000_000L));

    assertThat(written.buckets()).as("0.3 s per entry in a 1 s budget").isEqualTo(3);
    assertThat(written.leftOut()).isEqualTo(7);
  }
}
