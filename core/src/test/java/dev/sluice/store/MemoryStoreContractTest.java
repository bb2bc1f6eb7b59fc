package dev.sluice.store;

import dev.sluice.time.ManualClock;
import java.time.Duration;

/** The store contract on the memory store, with time on a {@link ManualClock} (exact timings). */
class MemoryStoreContractTest extends StoreContractTest {
  private final ManualClock clock = new ManualClock();

  @Override
  protected Store newStore() {
    return new MemoryStore(clock, 1_000);
  }

  @Override
  protected void advance(Duration duration) {
    clock.advance(duration);
  }
}
