package dev.sluice.store;

import dev.sluice.time.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/** The store contract on the memory store, with time on a {@link ManualClock} (exact timings). */
class MemoryStoreContractTest extends StoreContractTest {
  private final ManualClock clock = new ManualClock();
  /** Wall time moves with the manual clock, from a fixed instant. */
  private final InstantSource wall = wallClockOf(clock);

  static InstantSource wallClockOf(ManualClock clock) {
    long origin = clock.nanoTime();
    Instant start = Instant.parse("2026-01-01T00:00:00Z");
    return () -> start.plusNanos(clock.nanoTime() - origin);
  }

  @Override
  protected Store newStore() {
    return new MemoryStore(clock, 1_000, wall);
  }

  @Override
  protected InstantSource wallClock() {
    return wall;
  }

  @Override
  protected void advance(Duration duration) {
    clock.advance(duration);
  }
}
