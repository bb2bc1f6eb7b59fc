package dev.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.ManualClock;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class EngineConcurrencyTest {
  private static final int THREADS = 8;
  private static final int REQUESTS_PER_THREAD = 250;

  @Test
  void decide_manyThreadsOneBucket_neverAdmitsMoreThanTheBurst() throws Throwable {
    ManualClock clock = new ManualClock();
    Policy global = Policy.builder("global").paths(List.of("/**"))
        .by(List.of(new IdentitySpec(IdentityKind.GLOBAL, null)))
        .limits(List.of(Limit.of(100, Duration.ofMinutes(1)))).build();
    Policy perIp = Policy.builder("per-ip").paths(List.of("/**"))
        .limits(List.of(Limit.of(1_000, Duration.ofMinutes(1)))).build();
    Engine engine = Engine.builder()
        .policies(PolicySet.builder().policy(global).policy(perIp).build())
        .store(new MemoryStore(clock)).clock(clock).build();
    AtomicInteger allowed = new AtomicInteger();
    AtomicInteger perIpAllowed = new AtomicInteger();
    Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    CountDownLatch start = new CountDownLatch(1);
    Thread[] threads = new Thread[THREADS];
    for (int t = 0; t < THREADS; t++) {
      String peer = "192.0.2." + (t + 1);
      threads[t] = new Thread(() -> {
        try {
          start.await();
          for (int i = 0; i < REQUESTS_PER_THREAD; i++) {
            Decision d = engine.decide(TestRequest.get("/x").from(peer)).toCompletableFuture().join();
            if (d.outcome() == Outcome.ALLOWED) {
              allowed.incrementAndGet();
            }
            if (d.policies().get(1).allowed()) {
              perIpAllowed.incrementAndGet();
            }
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      });
      threads[t].start();
    }
    start.countDown();
    for (Thread thread : threads) {
      thread.join();
    }
    if (!failures.isEmpty()) {
      throw failures.peek();
    }

    assertThat(allowed.get()).isEqualTo(100);
    // Every per-ip bucket (1000/minute) admits all 250 of its thread's requests: the global
    // policy refusing them does not stop per-ip from counting them.
    assertThat(perIpAllowed.get()).isEqualTo(THREADS * REQUESTS_PER_THREAD);
  }
}
