package dev.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.identity.Cidr;
import dev.sluice.identity.CidrSet;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.LimitParser;
import dev.sluice.policy.Mode;
import dev.sluice.policy.OnError;
import dev.sluice.policy.Penalty;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.policy.Priority;
import dev.sluice.policy.StatusRange;
import dev.sluice.request.RequestView;
import dev.sluice.store.Ban;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.MemoryStore;
import dev.sluice.store.Store;
import dev.sluice.time.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The engine's abuse control (SPEC §7): block, bans, penalties, count, concurrency, priority. */
class AbuseControlTest {
  private static final String ABNORMAL = "blocked";

  private final ManualClock clock = new ManualClock();
  private final InstantSource wall = wallClockOf(clock);
  private final MemoryStore memory = new MemoryStore(clock, 10_000, wall);
  private final CountingStore store = new CountingStore(memory);
  private final IdentityResolver resolver = IdentityResolver.builder().apiKeyHeader("X-API-Key").build();

  static InstantSource wallClockOf(ManualClock clock) {
    long origin = clock.nanoTime();
    Instant start = Instant.parse("2026-01-01T00:00:00Z");
    return () -> start.plusNanos(clock.nanoTime() - origin);
  }

  private static Policy.Builder policy(String name, String path, String... limits) {
    return Policy.builder(name).paths(List.of(path))
        .limits(Stream.of(limits).map(LimitParser::parse).toList());
  }

  private static Penalty penalty(Duration ban, long escalate, Duration max, Penalty.Scope scope) {
    return new Penalty(ban, escalate, max, scope);
  }

  private Engine engine(PolicySet.Builder set) {
    return engine(set, store);
  }

  private Engine engine(PolicySet.Builder set, Store backend) {
    return Engine.builder().policies(set.identity(resolver).build()).store(backend).clock(clock)
        .wallClock(wall).build();
  }

  private static PolicySet.Builder set(Policy... policies) {
    PolicySet.Builder set = PolicySet.builder();
    for (Policy p : policies) {
      set.policy(p);
    }
    return set;
  }

  private static Decision decide(Engine engine, RequestView request) {
    CompletableFuture<Decision> future = engine.decide(request).toCompletableFuture();
    assertThat(future).isDone();
    return future.join();
  }

  private static TestRequest login() {
    return TestRequest.of("POST", "/auth/login");
  }

  // ------------------------------------------------------------------- plain sets stay lean

  @Test
  void decide_plainPolicySet_makesExactlyOneStoreCallPerPolicy() {
    Engine engine = engine(set(
        policy("api", "/api/**", "100/minute").build(),
        policy("search", "/api/search", "10/minute").build()));

    for (int i = 0; i < 20; i++) {
      Decision d = decide(engine, TestRequest.get(i % 2 == 0 ? "/api/search" : "/api/other"));
      assertThat(d.holdsResources()).isFalse();
      d.onResponse(500);
      d.release();
    }

    assertThat(store.snapshot()).containsOnlyKeys("tryConsume");
    assertThat(store.calls("tryConsume")).isEqualTo(30);
  }

  // ------------------------------------------------------------------- penalties and bans

  @Test
  void penalty_limitExceeded_bansTheIdentityAndAnswersBlocked() {
    Engine engine = engine(set(policy("login", "/auth/login", "3/minute")
        .penalty(penalty(Duration.ofMinutes(15), 2, Duration.ofHours(24), Penalty.Scope.POLICY)).build()));
    for (int i = 0; i < 3; i++) {
      assertThat(decide(engine, login()).outcome()).isEqualTo(Outcome.ALLOWED);
    }

    Decision tripped = decide(engine, login());

    assertThat(tripped.outcome()).isEqualTo(Outcome.BLOCKED);
    assertThat(tripped.retryAfterSeconds()).isEqualTo(900);
    PolicyDecision pd = tripped.denying().orElseThrow();
    assertThat(pd.blocked()).isTrue();
    assertThat(pd.outcomeLabel()).isEqualTo(ABNORMAL);
    assertThat(pd.consumption()).as("the tripping request's denial").isNotNull();
    Ban ban = pd.ban().orElseThrow();
    assertThat(ban.scope()).isEqualTo("login");
    assertThat(ban.identity()).isEqualTo("ip:192.0.2.10");
    assertThat(ban.reason()).isEqualTo("policy \"login\" refused the identity (limit login); offence 1,"
        + " banned for 15m");
    assertThat(memory.listBans().toCompletableFuture().join()).containsExactly(ban);
    assertThat(engine.bans().bans()).containsExactly(ban);
  }

  @Test
  void ban_whileActive_refusesWithoutAStoreCall_andEndsOnTime() {
    Engine engine = engine(set(policy("login", "/auth/login", "3/minute")
        .penalty(penalty(Duration.ofMinutes(15), 2, Duration.ofHours(24), Penalty.Scope.POLICY)).build()));
    for (int i = 0; i < 4; i++) {
      decide(engine, login());
    }
    int callsBefore = store.totalCalls();

    clock.advance(Duration.ofMinutes(15).minusMillis(1));
    Decision stillBanned = decide(engine, login());

    assertThat(stillBanned.outcome()).isEqualTo(Outcome.BLOCKED);
    assertThat(stillBanned.retryAfterSeconds()).isEqualTo(1);
    assertThat(stillBanned.denying().orElseThrow().consumption()).isNull();
    assertThat(stillBanned.denying().orElseThrow().storeError()).isFalse();
    assertThat(store.totalCalls()).as("no store call for a banned identity").isEqualTo(callsBefore);
    assertThat(decide(engine, login().from("192.0.2.99")).outcome())
        .as("another identity").isEqualTo(Outcome.ALLOWED);

    clock.advance(Duration.ofMillis(1));

    assertThat(decide(engine, login()).outcome()).isEqualTo(Outcome.ALLOWED);
  }

  @Test
  void penalty_secondAndLaterOffences_escalateAndCapAtMax() {
    Engine engine = engine(set(policy("login", "/auth/login", "1/minute")
        .penalty(penalty(Duration.ofMinutes(15), 2, Duration.ofMinutes(40), Penalty.Scope.POLICY)).build()));
    long[] expected = {900, 1800, 2400, 2400};

    for (long seconds : expected) {
      assertThat(decide(engine, login()).outcome()).isEqualTo(Outcome.ALLOWED);
      Decision tripped = decide(engine, login());
      assertThat(tripped.outcome()).isEqualTo(Outcome.BLOCKED);
      assertThat(tripped.retryAfterSeconds()).isEqualTo(seconds);
      clock.advance(Duration.ofSeconds(seconds));
    }
  }

  @Test
  void penalty_offencesOlderThanTheMemoryWindow_areForgiven() {
    Engine engine = engine(set(policy("login", "/auth/login", "1/minute")
        .penalty(penalty(Duration.ofMinutes(15), 2, Duration.ofHours(2), Penalty.Scope.POLICY)).build()));
    decide(engine, login());
    assertThat(decide(engine, login()).retryAfterSeconds()).isEqualTo(900);

    clock.advance(AbuseControl.MIN_OFFENCE_WINDOW);

    decide(engine, login());
    assertThat(decide(engine, login()).retryAfterSeconds()).as("a first offence again").isEqualTo(900);
  }

  @Test
  void penalty_scopePolicy_otherPoliciesStillAdmit() {
    Engine engine = engine(set(
        policy("login", "/auth/login", "1/minute")
            .penalty(penalty(Duration.ofMinutes(15), 1, Duration.ofMinutes(15), Penalty.Scope.POLICY)).build(),
        policy("api", "/api/**", "100/minute").build()));
    decide(engine, login());
    assertThat(decide(engine, login()).outcome()).isEqualTo(Outcome.BLOCKED);

    assertThat(decide(engine, TestRequest.get("/api/items")).outcome()).isEqualTo(Outcome.ALLOWED);
  }

  @Test
  void penalty_scopeAll_refusesUnderEveryPolicy() {
    Engine engine = engine(set(
        policy("login", "/auth/login", "1/minute")
            .penalty(penalty(Duration.ofMinutes(15), 1, Duration.ofMinutes(15), Penalty.Scope.ALL)).build(),
        policy("api", "/api/**", "100/minute").build()));
    decide(engine, login());
    assertThat(decide(engine, login()).denying().orElseThrow().ban().orElseThrow().scope())
        .isEqualTo(Ban.ALL_POLICIES);

    Decision elsewhere = decide(engine, TestRequest.get("/api/items"));

    assertThat(elsewhere.outcome()).isEqualTo(Outcome.BLOCKED);
    assertThat(elsewhere.policies()).extracting(PolicyDecision::outcomeLabel).containsExactly(ABNORMAL);
    assertThat(elsewhere.policies().get(0).policy().name()).isEqualTo("api");
  }

  @Test
  void penalty_onShadowPolicy_neverBans() {
    Engine engine = engine(set(policy("login", "/auth/login", "1/minute").mode(Mode.SHADOW)
        .penalty(penalty(Duration.ofMinutes(15), 2, Duration.ofHours(1), Penalty.Scope.ALL)).build()));
    decide(engine, login());

    Decision over = decide(engine, login());

    assertThat(over.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(over.policies().get(0).outcomeLabel()).isEqualTo("shadow_limited");
    assertThat(store.calls("putBan")).isZero();
    assertThat(engine.bans().isEmpty()).isTrue();
  }

  @Test
  void ban_onClientAddress_refusesPoliciesCountingByAnotherIdentity() {
    Engine engine = engine(set(policy("search", "/api/search", "100/minute")
        .by(List.of(IdentitySpec.parse("api_key"), IdentitySpec.parse("ip"))).build()));
    Ban ban = Ban.of(Ban.ALL_POLICIES, "ip:192.0.2.10", wall.millis() + 60_000, "admin");
    engine.bans().put(ban).toCompletableFuture().join();

    Decision banned = decide(engine, TestRequest.get("/api/search").header("X-API-Key", "k1"));

    assertThat(banned.outcome()).isEqualTo(Outcome.BLOCKED);
    assertThat(banned.retryAfterSeconds()).isEqualTo(60);
    assertThat(banned.denying().orElseThrow().identity().key()).isEqualTo("ip:192.0.2.10");
    assertThat(engine.bans().remove(ban.id()).toCompletableFuture().join()).isTrue();
    assertThat(decide(engine, TestRequest.get("/api/search").header("X-API-Key", "k1")).outcome())
        .isEqualTo(Outcome.ALLOWED);
  }

  @Test
  void banList_refresh_seesBansWrittenByAnotherInstance() {
    Engine engine = engine(set(policy("login", "/auth/login", "100/minute").build()));
    memory.putBan(Ban.of("login", "ip:192.0.2.10", wall.millis() + 60_000, "other instance"));
    assertThat(decide(engine, login()).outcome()).as("not replicated yet").isEqualTo(Outcome.ALLOWED);

    engine.bans().refresh().toCompletableFuture().join();

    assertThat(decide(engine, login()).outcome()).isEqualTo(Outcome.BLOCKED);
  }

  @Test
  void ban_sharedReplica_survivesAPolicyReload() {
    Engine first = engine(set(policy("login", "/auth/login", "1/minute")
        .penalty(Penalty.of(Duration.ofMinutes(5))).build()));
    decide(first, login());
    decide(first, login());

    Engine reloaded = Engine.builder()
        .policies(set(policy("login", "/auth/login", "1/minute").build()).identity(resolver).build())
        .store(store).clock(clock).wallClock(wall).bans(first.bans()).build();

    assertThat(decide(reloaded, login()).outcome()).isEqualTo(Outcome.BLOCKED);
  }

  @Test
  void penalty_storeWithoutAbuseSupport_staysAnOrdinaryLimit() {
    Engine engine = engine(set(policy("login", "/auth/login", "1/minute")
        .penalty(Penalty.of(Duration.ofMinutes(5))).build()), new BareStore(memory));
    decide(engine, login());

    Decision over = decide(engine, login());

    assertThat(over.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(over.denying().orElseThrow().outcomeLabel()).isEqualTo("limited");
  }

  // ------------------------------------------------------------------- static block

  @Test
  void block_listedAddress_isForbiddenBeforeExemptionsAndWithoutStoreCalls() {
    Engine engine = engine(set(policy("api", "/api/**", "100/minute").build())
        .blockIps(CidrSet.of(List.of(Cidr.parse("203.0.113.0/24"))))
        .exemptIps(CidrSet.of(List.of(Cidr.parse("203.0.113.7/32")))));

    Decision blocked = decide(engine, TestRequest.get("/api/x").from("203.0.113.7"));

    assertThat(blocked.outcome()).isEqualTo(Outcome.FORBIDDEN);
    assertThat(blocked.policies()).isEmpty();
    assertThat(blocked.exempt()).isFalse();
    assertThat(blocked.retryAfterSeconds()).isZero();
    assertThat(store.totalCalls()).isZero();
    assertThat(decide(engine, TestRequest.get("/api/x").from("198.51.100.1")).outcome())
        .isEqualTo(Outcome.ALLOWED);
  }

  @Test
  void block_listedApiKey_isForbidden() {
    Engine engine = engine(set(policy("api", "/api/**", "100/minute").build())
        .blockApiKeys(List.of("leaked-key-123")));

    assertThat(decide(engine, TestRequest.get("/api/x").header("X-API-Key", "leaked-key-123")).outcome())
        .isEqualTo(Outcome.FORBIDDEN);
    assertThat(decide(engine, TestRequest.get("/api/x").header("X-API-Key", "fine-key")).outcome())
        .isEqualTo(Outcome.ALLOWED);
  }

  // ------------------------------------------------------------------- count

  private Engine countingLogin(String limit) {
    return engine(set(policy("login", "/auth/login", limit)
        .count(List.of(StatusRange.of(401), StatusRange.parse("403"))).build()));
  }

  @Test
  void count_nonMatchingStatus_refundsTheReservation() {
    Engine engine = countingLogin("2/hour");

    for (int i = 0; i < 10; i++) {
      Decision d = decide(engine, login());
      assertThat(d.outcome()).as("attempt %d", i).isEqualTo(Outcome.ALLOWED);
      d.onResponse(200);
      d.release();
    }
  }

  @Test
  void count_matchingStatus_consumes() {
    Engine engine = countingLogin("2/hour");
    for (int i = 0; i < 2; i++) {
      Decision d = decide(engine, login());
      d.onResponse(i == 0 ? 401 : 403);
      d.release();
    }

    Decision third = decide(engine, login());

    assertThat(third.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(third.holdsResources()).isFalse();
  }

  @Test
  void count_releaseWithoutResponse_refundsExactlyOnce() {
    Engine engine = countingLogin("2/hour");
    Decision a = decide(engine, login());
    Decision b = decide(engine, login());
    assertThat(decide(engine, login()).outcome()).as("both tokens reserved").isEqualTo(Outcome.LIMITED);

    a.release();
    a.release();
    a.onResponse(200);

    assertThat(decide(engine, login()).outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(decide(engine, login()).outcome()).as("only one token came back").isEqualTo(Outcome.LIMITED);
    assertThat(b.holdsResources()).isTrue();
  }

  @Test
  void count_releaseRacingFromManyThreads_refundsExactlyOnce() throws Exception {
    Engine engine = countingLogin("4/hour");
    for (int round = 0; round < 50; round++) {
      Decision[] held = new Decision[4];
      for (int i = 0; i < 4; i++) {
        held[i] = decide(engine, login().from("198.51.100." + (round + 1)));
      }
      Decision racer = held[0];
      int threads = 6;
      Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
      CyclicBarrier start = new CyclicBarrier(threads);
      Thread[] workers = new Thread[threads];
      for (int t = 0; t < threads; t++) {
        int n = t;
        workers[t] = new Thread(() -> {
          try {
            start.await(10, TimeUnit.SECONDS);
            if (n % 2 == 0) {
              racer.release();
            } else {
              racer.onResponse(200);
            }
          } catch (Throwable e) {
            failures.add(e);
          }
        });
        workers[t].start();
      }
      for (Thread worker : workers) {
        worker.join(10_000);
      }
      assertThat(failures).isEmpty();
      TestRequest same = login().from("198.51.100." + (round + 1));
      assertThat(decide(engine, same).outcome()).as("round %d: one token back", round).isEqualTo(Outcome.ALLOWED);
      assertThat(decide(engine, same).outcome()).as("round %d: not two", round).isEqualTo(Outcome.LIMITED);
    }
  }

  @Test
  void count_responseAfterRelease_changesNothing() {
    Engine engine = countingLogin("1/hour");
    Decision a = decide(engine, login());
    a.onResponse(401); // counts
    a.release();
    a.onResponse(200); // too late, already settled

    assertThat(decide(engine, login()).outcome()).isEqualTo(Outcome.LIMITED);
  }

  @Test
  void count_requestRefusedByAnotherPolicy_refundsAtOnce() {
    Engine engine = engine(set(
        policy("login", "/auth/login", "5/hour").count(List.of(StatusRange.of(401))).build(),
        policy("tight", "/auth/login", "1/hour").build()));
    decide(engine, login()).release();

    for (int i = 0; i < 10; i++) {
      Decision refused = decide(engine, login());
      assertThat(refused.outcome()).isEqualTo(Outcome.LIMITED);
      assertThat(refused.holdsResources()).isFalse();
    }
    Consumption left = memory.tryConsume(new BucketKey("login", "ip:192.0.2.10"),
        new BucketSpec(dev.sluice.algorithm.Algorithm.GCRA, List.of(LimitParser.parse("5/hour"))), 5)
        .toCompletableFuture().join();
    assertThat(left.allowed()).as("all 5 login tokens are back").isTrue();
  }

  // ------------------------------------------------------------------- concurrency

  private Engine exports(int cap, String limit) {
    return engine(set(policy("exports", "/api/reports/**", limit).concurrency(cap).build()));
  }

  private static TestRequest export() {
    return TestRequest.get("/api/reports/1");
  }

  @Test
  void concurrency_overTheCap_isLimitedWithRetryAfterOne() {
    Engine engine = exports(2, "100/minute");
    Decision first = decide(engine, export());
    Decision second = decide(engine, export());

    Decision third = decide(engine, export());

    assertThat(first.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(second.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(third.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(third.concurrencyLimited()).isTrue();
    assertThat(third.retryAfterSeconds()).isEqualTo(1);
    assertThat(third.denying().orElseThrow().outcomeLabel()).isEqualTo("limited");
    assertThat(first.concurrencyLimited()).isFalse();
    assertThat(decide(engine, export().from("192.0.2.99")).outcome())
        .as("another identity has its own permits").isEqualTo(Outcome.ALLOWED);
  }

  @Test
  void concurrency_release_returnsThePermit() {
    Engine engine = exports(1, "100/minute");
    Decision first = decide(engine, export());
    assertThat(decide(engine, export()).outcome()).isEqualTo(Outcome.LIMITED);

    first.release();

    assertThat(decide(engine, export()).outcome()).isEqualTo(Outcome.ALLOWED);
  }

  @Test
  void concurrency_refusal_refundsThePolicysTokens() {
    Engine engine = exports(1, "3/hour");
    Decision running = decide(engine, export());
    for (int i = 0; i < 5; i++) {
      assertThat(decide(engine, export()).concurrencyLimited()).isTrue();
    }
    running.release();

    Decision next = decide(engine, export());

    assertThat(next.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(next.mostRestrictive().orElseThrow().limitStatus().remaining())
        .as("only the two admitted requests consumed").isEqualTo(1);
  }

  @Test
  void concurrency_rateLimitedRequest_takesNoPermit() {
    Engine engine = exports(5, "1/hour");
    decide(engine, export());

    decide(engine, export());

    assertThat(store.calls("acquirePermit")).isEqualTo(1);
  }

  @Test
  void concurrency_storeWithoutPermits_followsOnError() {
    BareStore bare = new BareStore(memory);
    Engine allow = engine(set(policy("exports", "/api/reports/**", "100/minute").concurrency(1).build()), bare);
    Engine deny = engine(set(policy("exports", "/api/reports/**", "100/minute").concurrency(1)
        .onError(OnError.DENY).build()), bare);

    assertThat(decide(allow, export()).outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(decide(allow, export()).outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(decide(deny, export()).outcome()).isEqualTo(Outcome.LIMITED);
  }

  @Test
  void concurrency_thousandCyclesWithRandomAborts_leakNothing() {
    Engine engine = engine(set(
        policy("exports", "/api/reports/**", "1000000/second").concurrency(3)
            .count(List.of(StatusRange.parse("5xx"))).build()));
    Random random = new Random(42);
    List<Decision> open = new ArrayList<>();
    int admitted = 0;
    for (int i = 0; i < 1000; i++) {
      Decision d = decide(engine, export().from("192.0.2." + (1 + random.nextInt(3))));
      if (d.outcome() == Outcome.ALLOWED) {
        admitted++;
        open.add(d);
      }
      if (!open.isEmpty() && random.nextInt(3) > 0) {
        Decision done = open.remove(random.nextInt(open.size()));
        switch (random.nextInt(4)) {
          case 0 -> done.release(); // aborted before any answer
          case 1 -> { done.onResponse(200); done.release(); }
          case 2 -> { done.onResponse(503); done.release(); done.release(); }
          default -> { done.release(); done.onResponse(200); }
        }
      }
    }
    open.forEach(Decision::release);

    assertThat(admitted).isGreaterThan(300);
    assertThat(memory.permitKeys()).isZero();
    for (int i = 1; i <= 3; i++) {
      assertThat(memory.permitsHeld("exports|ip:192.0.2." + i)).isZero();
    }
  }

  @Test
  void concurrency_manyThreads_neverExceedTheCap() throws Exception {
    int cap = 3;
    Engine engine = exports(cap, "1000000/second");
    int threads = 8;
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger maxSeen = new AtomicInteger();
    AtomicInteger admitted = new AtomicInteger();
    Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    CyclicBarrier start = new CyclicBarrier(threads);
    Thread[] workers = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      workers[t] = new Thread(() -> {
        try {
          start.await(10, TimeUnit.SECONDS);
          for (int i = 0; i < 300; i++) {
            Decision d = engine.decide(export()).toCompletableFuture().join();
            if (d.outcome() == Outcome.ALLOWED) {
              admitted.incrementAndGet();
              int now = inFlight.incrementAndGet();
              maxSeen.accumulateAndGet(now, Math::max);
              Thread.onSpinWait();
              inFlight.decrementAndGet();
              d.release();
            } else {
              assertThat(d.concurrencyLimited()).isTrue();
            }
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      }, "concurrency-worker-" + t);
      workers[t].start();
    }
    for (Thread worker : workers) {
      worker.join(30_000);
      assertThat(worker.isAlive()).isFalse();
    }
    if (!failures.isEmpty()) {
      AssertionError error = new AssertionError("a worker failed", failures.poll());
      failures.forEach(error::addSuppressed);
      throw error;
    }

    assertThat(maxSeen.get()).isLessThanOrEqualTo(cap);
    assertThat(admitted.get()).isGreaterThan(0);
    assertThat(memory.permitKeys()).isZero();
  }

  // ------------------------------------------------------------------- priority

  @Test
  void priority_isTheHighestOfTheAppliedPolicies() {
    Engine engine = engine(set(
        policy("login", "/auth/login", "100/minute").priority(Priority.CRITICAL).build(),
        policy("auth", "/auth/**", "100/minute").priority(Priority.LOW).build(),
        policy("reports", "/api/reports/**", "100/minute").priority(Priority.LOW).build(),
        policy("api", "/api/**", "100/minute").build()));

    assertThat(decide(engine, login()).priority()).isEqualTo(Priority.CRITICAL);
    assertThat(decide(engine, TestRequest.get("/auth/logout")).priority()).isEqualTo(Priority.LOW);
    assertThat(decide(engine, TestRequest.get("/api/reports/1")).priority()).isEqualTo(Priority.NORMAL);
    assertThat(decide(engine, TestRequest.get("/nothing")).priority()).isEqualTo(Priority.NORMAL);
  }

  /** Implements only the original SPI, so every abuse-control method fails as "not supported". */
  static final class BareStore implements Store {
    private final Store delegate;

    BareStore(Store delegate) {
      this.delegate = delegate;
    }

    @Override
    public CompletionStage<Consumption> tryConsume(BucketKey key, BucketSpec spec, long cost) {
      return delegate.tryConsume(key, spec, cost);
    }

    @Override
    public CompletionStage<Void> ping() {
      return delegate.ping();
    }

    @Override
    public void close() {}
  }
}
