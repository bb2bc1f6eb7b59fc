package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.engine.BanList;
import dev.sluice.limit.LimitParser;
import dev.sluice.time.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/**
 * Issue 9, points 2 and 3: state an attacker creates never evicts state that constrains another
 * identity or another policy. Adversarial schedules interleave a flood of invented identities
 * (under every policy, the victims' own included) with victims whose buckets are drained, and
 * with operator and penalty bans, on a store of a few keys.
 */
class EvictionAttackProperties {

  /** The policies and their specs: one-limit GCRA (lock-free), two limits, a sliding window. */
  private static final String[] POLICIES = {"login", "search", "export"};
  private static final BucketSpec[] SPECS = {
      spec(Algorithm.GCRA, "5/minute", "20/hour"),
      spec(Algorithm.GCRA, "10/second burst 3"),
      spec(Algorithm.SLIDING_WINDOW, "3/minute"),
  };
  /** Victims: identity and policy. Two under login, one under each other policy. */
  private static final String[][] VICTIMS = {
      {"ip:198.51.100.1", "login"}, {"ip:198.51.100.2", "login"}, {"ip:198.51.100.3", "search"},
      {"ip:198.51.100.4", "export"},
  };

  private static BucketSpec spec(Algorithm algorithm, String... limits) {
    return new BucketSpec(algorithm, Arrays.stream(limits).map(LimitParser::parse).toList());
  }

  private static BucketSpec specOf(String policy) {
    return SPECS[Arrays.asList(POLICIES).indexOf(policy)];
  }

  enum Kind { VICTIM, ATTACKER, ADVANCE }

  /**
   * One step: a victim's request (who = victim index), an attacker's request under policy {@code
   * policy} with a fresh identity (or one of a small reused pool when {@code reuse}), or time
   * passing by {@code millis}.
   */
  record Step(Kind kind, int who, int policy, boolean reuse, int cost, int millis) {}

  @Provide
  Arbitrary<List<Step>> schedules() {
    return Arbitraries.frequencyOf(
            Tuple.of(6, Combinators.combine(
                    Arbitraries.integers().between(0, POLICIES.length - 1),
                    Arbitraries.of(true, false), Arbitraries.integers().between(1, 3))
                .as((p, reuse, cost) -> new Step(Kind.ATTACKER, 0, p, reuse, cost, 0))),
            Tuple.of(2, Arbitraries.integers().between(0, VICTIMS.length - 1)
                .map(v -> new Step(Kind.VICTIM, v, 0, false, 1, 0))),
            Tuple.of(1, Arbitraries.integers().between(0, 90_000)
                .map(ms -> new Step(Kind.ADVANCE, 0, 0, false, 1, ms))))
        .list().ofMinSize(20).ofMaxSize(400);
  }

  /**
   * Point 2: every decision of a victim on the bounded store equals the unbounded store's; the
   * bounded store may only refuse to track a victim whose state is full (it constrains nothing), and
   * never admits what the unbounded store refuses.
   */
  @Property(tries = 300)
  void victimDecisions_underAnyFloodOfInventedIdentities_equalThoseOfAnUnboundedStore(
      @ForAll("schedules") List<Step> schedule, @ForAll @IntRange(min = 6, max = 16) int maxKeys) {
    ManualClock clock = new ManualClock();
    MemoryStore bounded = new MemoryStore(clock, maxKeys);
    MemoryStore unbounded = new MemoryStore(clock, 1L << 40);
    bounded.usePolicies(List.of(POLICIES));
    unbounded.usePolicies(List.of(POLICIES));
    Map<Integer, Consumption> lastAnswer = new HashMap<>();
    Map<Integer, Long> lastAt = new HashMap<>();
    // The victims drain their buckets first: each now holds a bucket that refuses.
    for (int v = 0; v < VICTIMS.length; v++) {
      for (int i = 0; i < 6; i++) {
        victimRequest(v, 1, bounded, unbounded, clock, lastAnswer, lastAt);
      }
      assertThat(lastAnswer.get(v).allowed()).as("victim %d drained", v).isFalse();
    }
    long fresh = 0;
    for (Step step : schedule) {
      switch (step.kind()) {
        case ADVANCE -> clock.advance(Duration.ofMillis(step.millis()));
        case VICTIM -> victimRequest(step.who(), step.cost(), bounded, unbounded, clock, lastAnswer, lastAt);
        case ATTACKER -> {
          String policy = POLICIES[step.policy()];
          String identity = step.reuse() ? "api_key:pool" + (fresh % 3) : "api_key:fresh" + fresh;
          fresh++;
          BucketKey key = new BucketKey(policy, identity);
          try {
            bounded.tryConsumeNow(key, specOf(policy), step.cost());
          } catch (StoreFullException e) {
            assertThat(e.policy()).isEqualTo(policy);
          }
          unbounded.tryConsumeNow(key, specOf(policy), step.cost());
        }
      }
      assertThat(bounded.size()).isLessThanOrEqualTo(maxKeys);
      assertThat(bounded.evictions()).isZero();
    }
  }

  private static void victimRequest(
      int v, int cost, MemoryStore bounded, MemoryStore unbounded, ManualClock clock,
      Map<Integer, Consumption> lastAnswer, Map<Integer, Long> lastAt) {
    BucketKey key = new BucketKey(VICTIMS[v][1], VICTIMS[v][0]);
    BucketSpec spec = specOf(key.policy());
    long now = clock.nanoTime();
    Consumption expected = unbounded.tryConsumeNow(key, spec, cost);
    Consumption actual;
    try {
      actual = bounded.tryConsumeNow(key, spec, cost);
    } catch (StoreFullException e) {
      // Refusing to track the victim is allowed only when the victim's state was full: no
      // earlier request of it still counts. The unbounded store then forgets this request too.
      Consumption before = lastAnswer.get(v);
      if (before != null) {
        long elapsed = now - lastAt.get(v);
        for (LimitStatus limit : before.limits()) {
          assertThat(limit.nanosToFull()).as("victim %d refused as new while its bucket was not full", v)
              .isLessThanOrEqualTo(elapsed);
        }
      }
      if (expected.allowed()) {
        unbounded.refund(key, spec, cost);
      }
      lastAnswer.remove(v);
      lastAt.remove(v);
      return;
    }
    assertThat(actual).as("victim %d's decision", v).isEqualTo(expected);
    lastAnswer.put(v, actual);
    lastAt.put(v, now);
  }

  /** A wall clock the test moves. */
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

  /** A step of the ban schedule: an attacker's penalty (offence then ban) or time passing. */
  record BanStep(boolean advance, int policy, boolean scopeAll, boolean reuse, int minutes) {}

  @Provide
  Arbitrary<List<BanStep>> banSchedules() {
    return Arbitraries.frequencyOf(
            Tuple.of(8, Combinators.combine(
                    Arbitraries.integers().between(0, POLICIES.length - 1), Arbitraries.of(true, false),
                    Arbitraries.of(true, false), Arbitraries.integers().between(1, 24 * 60))
                .as((p, all, reuse, minutes) -> new BanStep(false, p, all, reuse, minutes))),
            Tuple.of(1, Arbitraries.integers().between(0, 20)
                .map(minutes -> new BanStep(true, 0, false, false, minutes))))
        .list().ofMinSize(10).ofMaxSize(300);
  }

  /**
   * Point 3: operator bans and other identities' penalty bans (and their offence counts) survive
   * any flood of attacker penalties, in the store and in the engine's ban replica.
   */
  @Property(tries = 300)
  void operatorAndVictimBans_underAnyFloodOfAttackerBans_surviveUntilTheyEnd(
      @ForAll("banSchedules") List<BanStep> schedule, @ForAll @IntRange(min = 3, max = 12) int maxKeys) {
    ManualClock clock = new ManualClock();
    MovableInstant wall = new MovableInstant();
    MemoryStore store = new MemoryStore(clock, maxKeys, wall);
    store.usePolicies(List.of(POLICIES));
    BanList replica = new BanList(store, wall);
    long window = Duration.ofHours(24).toNanos();
    List<Ban> protectedBans = new ArrayList<>();
    long start = wall.millis();
    // An operator's 30-minute ban of an address everywhere, another under login only.
    protectedBans.add(Ban.of(Ban.ALL_POLICIES, "ip:203.0.113.9", start + 1_800_000, "operator"));
    protectedBans.add(Ban.of("login", "ip:203.0.113.10", start + 3_600_000, "operator"));
    // A victim tripped login's penalty twice: offence 2, banned for 30 minutes.
    store.recordOffence("login|ip:198.51.100.1", window);
    assertThat(store.recordOffence("login|ip:198.51.100.1", window).toCompletableFuture().join()).isEqualTo(2);
    protectedBans.add(Ban.penalty("login", "login", "ip:198.51.100.1", start + 1_800_000, "offence 2"));
    for (Ban ban : protectedBans) {
      replica.put(ban).toCompletableFuture().join();
    }

    long n = 0;
    for (BanStep step : schedule) {
      if (step.advance()) {
        wall.millis.addAndGet(Duration.ofMinutes(step.minutes()).toMillis());
        clock.advance(Duration.ofMinutes(step.minutes()));
      } else {
        String policy = POLICIES[step.policy()];
        String identity = step.reuse() ? "api_key:pool" + (n++ % 3) : "api_key:attacker" + n++;
        try {
          long offences = store.recordOffence(policy + "|" + identity, window).toCompletableFuture().join();
          Ban ban = Ban.penalty(policy, step.scopeAll() ? Ban.ALL_POLICIES : policy, identity,
              wall.millis() + Duration.ofMinutes(step.minutes()).toMillis() * offences, "attacker");
          replica.put(ban).toCompletableFuture().join();
        } catch (CompletionException e) {
          assertThat(e.getCause()).isInstanceOf(PenaltyRefusedException.class);
        }
      }
      long now = wall.millis();
      List<Ban> stored = store.listBans().toCompletableFuture().join();
      List<Ban> replicated = replica.bans();
      for (Ban ban : protectedBans) {
        if (ban.activeAt(now)) {
          assertThat(stored).as("in the store at %d", now).contains(ban);
          assertThat(replicated).as("in the replica at %d", now).contains(ban);
        }
      }
    }
    // The victim's offences were never evicted either (unless a day passed without one).
    long elapsed = wall.millis() - start;
    long offences = store.recordOffence("login|ip:198.51.100.1", window).toCompletableFuture().join();
    if (elapsed < Duration.ofHours(24).toMillis()) {
      assertThat(offences).isGreaterThanOrEqualTo(3);
    }
  }
}
