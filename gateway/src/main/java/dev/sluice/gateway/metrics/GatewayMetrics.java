package dev.sluice.gateway.metrics;

import dev.sluice.engine.Decision;
import dev.sluice.engine.Outcome;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.event.DecisionListener;
import dev.sluice.gateway.accesslog.AccessLog;
import dev.sluice.gateway.audit.AuditLog;
import dev.sluice.policy.Priority;
import dev.sluice.request.RequestView;
import dev.sluice.store.MemoryStore;
import dev.sluice.store.PenaltyBound;
import dev.sluice.store.Store;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The gateway's Prometheus metrics (SPEC §6).
 *
 * <ul>
 *   <li>{@code sluice_requests_total{policy,outcome,via}}: one count per policy applied to a request
 *       (a request matching two policies counts once under each), outcome {@code allowed},
 *       {@code limited}, {@code shadow_limited} or {@code blocked}. An exempt request applies no
 *       policy and is counted once with {@code policy=""} and {@code outcome="exempt"}; the empty
 *       value never collides with a policy name (names are never empty). A request refused by
 *       {@code block:} (403) applies no policy either and is counted once with {@code policy=""}
 *       and {@code outcome="blocked"}; a banned identity (429) counts {@code blocked} under the
 *       policy that applied, through {@link PolicyDecision#outcomeLabel()}. {@code via} says which
 *       front end received the request: {@code gateway} (the proxy) or {@code decision} (the
 *       decision API, SPEC §8); both decide with one engine, so their counts add up per policy.
 *   <li>{@code sluice_shed_total{priority}}: requests answered {@code 503} because {@code
 *       gateway.max_inflight} was reached for their priority ({@code low}, {@code normal},
 *       {@code critical}). A shed request was decided (and counted in {@code
 *       sluice_requests_total}, usually as {@code allowed}) before it was shed.
 *   <li>{@code sluice_decision_seconds}: histogram of the engine's decision time. On the memory
 *       store it holds a random sample of about one decision in {@value #MEMORY_DECISION_TIMING_ONE_IN}
 *       (see {@link #decisionTimingOneIn(Store)}), so its {@code _count} is not the number of
 *       requests ({@code sluice_requests_total} is exact); on other stores every decision.
 *   <li>{@code sluice_store_errors_total}: failed store calls (one per policy whose store call
 *       failed, whatever its {@code on_error}).
 *   <li>{@code sluice_upstream_seconds{status}}: histogram of upstream response time by status
 *       class {@code 1xx}..{@code 5xx}.
 *   <li>{@code sluice_store_evictions_total} (always 0: only full buckets are dropped),
 *       {@code sluice_store_refused_keys_total} (new identities refused, 503) and {@code
 *       sluice_store_keys}: only for the memory store, after {@link #bindStore(Store)}.
 *   <li>{@code sluice_penalties_refused_total}: penalties not recorded because their policy's share
 *       of offence records or bans was full (both built-in stores), after {@link #bindStore(Store)}.
 *   <li>{@code sluice_bans_total{policy}}: bans created by a policy's {@code penalty} (the
 *       request that tripped it); bans added through the admin API are not counted here.
 *   <li>{@code sluice_audit_dropped_total}: after {@link #bindAuditLog(AuditLog)}.
 *   <li>{@code sluice_access_log_dropped_total}, {@code sluice_access_log_lines_total}: after
 *       {@link #bindAccessLog(AccessLog)}.
 * </ul>
 *
 * <p>Hot path: every counter and timer a request can touch is created once and cached (per policy
 * an array indexed by outcome), so recording a decision does no registry lookup and allocates
 * nothing. Thread-safe; never blocks; never throws from {@link #onDecision}.
 */
public final class GatewayMetrics implements DecisionListener {

  /** The outcome labels of {@code sluice_requests_total}, in the order of the per-policy arrays. */
  static final String[] OUTCOMES = {"allowed", "limited", "shadow_limited", "exempt", "blocked"};
  private static final int EXEMPT = 3;
  private static final int BLOCKED = 4;
  /** The {@code via} labels, in the order of the per-policy arrays' halves. */
  static final String[] VIAS = {"gateway", "decision"};
  /** The {@code policy} label of requests no policy applies to (exempt requests). */
  public static final String NO_POLICY = "";

  /**
   * On the memory store, one decision in this many (at random) is timed for {@code
   * sluice_decision_seconds}: such a decision takes well under a microsecond, and timing it (two
   * clock reads and a histogram update on shared atomics) cost a visible share of a refused
   * request's CPU in a flood; a random sample gives the same distribution.
   */
  public static final int MEMORY_DECISION_TIMING_ONE_IN = 16;

  private static final Duration[] DECISION_BUCKETS = seconds(
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1);
  private static final Duration[] UPSTREAM_BUCKETS = seconds(
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60);

  private final PrometheusMeterRegistry registry;
  private final Timer decisionSeconds;
  private final Counter storeErrors;
  private final Timer[] upstreamByClass = new Timer[5];
  private final ConcurrentHashMap<String, AtomicReferenceArray<Counter>> requests = new ConcurrentHashMap<>();
  /** Outcome labels the core may add later; slower (one map lookup) but never lost. */
  private final ConcurrentHashMap<String, Counter> otherOutcomes = new ConcurrentHashMap<>();
  private final Map<Priority, Counter> shed = new EnumMap<>(Priority.class);
  private final Counter upstreamRetries;
  private final ConcurrentHashMap<String, Counter> bans = new ConcurrentHashMap<>();

  /**
   * Registers the gateway's meters on {@code registry}.
   *
   * @param registry the registry {@code /metrics} scrapes
   */
  public GatewayMetrics(PrometheusMeterRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.decisionSeconds = Timer.builder("sluice.decision")
        .description("Time the engine took to decide a request; with the memory store a random sample of"
            + " about one decision in " + MEMORY_DECISION_TIMING_ONE_IN + " (the count is not the request count)")
        .serviceLevelObjectives(DECISION_BUCKETS)
        .register(registry);
    this.storeErrors = Counter.builder("sluice.store.errors")
        .description("Store calls that failed (the policy's on_error then decided)")
        .register(registry);
    for (Priority priority : Priority.values()) {
      shed.put(priority, Counter.builder("sluice.shed")
          .description("Requests refused with 503 because the gateway's in-flight cap was reached for their priority")
          .tag("priority", priority.configName())
          .register(registry));
    }
    this.upstreamRetries = Counter.builder("sluice.upstream.retries")
        .description("Body-less requests sent once more on a new connection because the upstream closed "
            + "a reused keep-alive connection before answering")
        .register(registry);
    for (int i = 0; i < upstreamByClass.length; i++) {
      upstreamByClass[i] = Timer.builder("sluice.upstream")
          .description("Time from forwarding a request to the upstream's response head")
          .tag("status", (i + 1) + "xx")
          .serviceLevelObjectives(UPSTREAM_BUCKETS)
          .register(registry);
    }
  }

  /** The registry {@code /metrics} scrapes (other parts of the gateway register their meters there). */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /**
   * How often the engine should time a decision for {@code sluice_decision_seconds} ({@code
   * Engine.Builder.timeOneIn}): one in {@value #MEMORY_DECISION_TIMING_ONE_IN} on the memory
   * store, every decision on a store that does I/O (there the time is the store's round trip, and
   * every slow decision counts: a store timeout shows up in the histogram's top buckets).
   */
  public static int decisionTimingOneIn(Store store) {
    return store instanceof MemoryStore ? MEMORY_DECISION_TIMING_ONE_IN : 1;
  }

  @Override
  public void onDecision(RequestView request, Decision decision, long decisionNanos) {
    if (decisionNanos >= 0) { // DecisionListener.NOT_TIMED: not in the sample
      decisionSeconds.record(decisionNanos, TimeUnit.NANOSECONDS);
    }
    int via = "decision".equals(request.via()) ? 1 : 0;
    if (decision.exempt()) {
      counter(NO_POLICY, EXEMPT, via).increment();
      return;
    }
    if (decision.outcome() == Outcome.FORBIDDEN) {
      counter(NO_POLICY, BLOCKED, via).increment();
      return;
    }
    for (PolicyDecision pd : decision.policies()) {
      if (pd.storeError() && !pd.storeFull()) {
        storeErrors.increment();
      }
      String policy = pd.policy().name();
      if (pd.blocked() && pd.consumption() != null) {
        // This request tripped the policy's penalty: a new ban.
        bans.computeIfAbsent(policy, p -> Counter.builder("sluice.bans")
            .description("Bans created by a policy's penalty (a request that tripped it)")
            .tag("policy", p)
            .register(registry)).increment();
      }
      String outcome = pd.outcomeLabel();
      int index = outcomeIndex(outcome);
      if (index >= 0) {
        counter(policy, index, via).increment();
      } else {
        String viaLabel = VIAS[via];
        otherOutcomes.computeIfAbsent(policy + '\u0000' + outcome + '\u0000' + viaLabel,
            k -> requestsCounter(policy, outcome, viaLabel)).increment();
      }
    }
  }

  /**
   * Counts a request refused by a block rule or a ban ({@code outcome="blocked"}).
   *
   * @param policy the policy that banned the identity, or {@link #NO_POLICY} for a {@code block:} rule
   */
  public void blocked(String policy) {
    counter(policy, BLOCKED, 0).increment();
  }

  /** Counts one request shed under {@code gateway.max_inflight} ({@code sluice_shed_total}). */
  public void shed(Priority priority) {
    shed.get(priority).increment();
  }

  /**
   * Counts one request sent again to the upstream ({@code sluice_upstream_retries_total}): the
   * upstream may have executed the first attempt, so its own request count can exceed Sluice's by
   * this much.
   */
  public void upstreamRetry() {
    upstreamRetries.increment();
  }

  /**
   * Records one upstream response.
   *
   * @param status the upstream's status code; codes outside 100..599 are counted in the nearest class
   * @param nanos time from forwarding the request to receiving the response head
   */
  public void upstreamResponse(int status, long nanos) {
    int index = Math.min(Math.max(status / 100, 1), 5) - 1;
    upstreamByClass[index].record(nanos, TimeUnit.NANOSECONDS);
  }

  /**
   * Exposes the memory store's evictions ({@code sluice_store_evictions_total}) and size
   * ({@code sluice_store_keys}). A no-op for other stores (Redis expires keys itself and
   * evictions there are Redis's own metric).
   *
   * <p>Micrometer holds the store weakly: the caller keeps it alive while the gateway runs.
   */
  public void bindStore(Store store) {
    FunctionCounter.builder("sluice.store.resets", store, Store::resets)
        .description("Times the store was found erased behind Sluice's back (Redis FLUSHALL, failover to an"
            + " empty replica); bans held by this instance are re-published")
        .register(registry);
    if (store instanceof MemoryStore memory) {
      FunctionCounter.builder("sluice.store.evictions", memory, MemoryStore::evictions)
          .description("Buckets the memory store dropped under max_keys pressure before they were full")
          .register(registry);
      Gauge.builder("sluice.store.keys", memory, MemoryStore::size)
          .description("Buckets held by the memory store")
          .register(registry);
      FunctionCounter.builder("sluice.store.refused.keys", memory, MemoryStore::refusedKeys)
          .description("New identities the memory store refused to track (503) because their policy's share"
              + " of max_keys held no full bucket to drop")
          .register(registry);
    }
    if (store instanceof PenaltyBound bound) {
      FunctionCounter.builder("sluice.penalties.refused", bound, PenaltyBound::penaltiesRefused)
          .description("Penalties (offence records or bans) not recorded because their policy's share was"
              + " full of live ones; the request stayed an ordinary 429")
          .register(registry);
    }
  }

  /**
   * Exposes the audit lines dropped because the writer could not keep up
   * ({@code sluice_audit_dropped_total}); a non-zero rate means the audit log is incomplete.
   * Micrometer holds the log weakly: the caller keeps it alive.
   */
  public void bindAuditLog(AuditLog audit) {
    if (audit.enabled()) {
      FunctionCounter.builder("sluice.audit.dropped", audit, AuditLog::dropped)
          .description("Audit log lines dropped because the writer could not keep up or failed")
          .register(registry);
    }
  }

  /**
   * Exposes the access log's lines dropped under back-pressure ({@code
   * sluice_access_log_dropped_total}) and written ({@code sluice_access_log_lines_total}), when
   * {@code access_log} is set. Micrometer holds the log weakly: the caller keeps it alive.
   */
  public void bindAccessLog(AccessLog access) {
    if (access.enabled()) {
      FunctionCounter.builder("sluice.access.log.dropped", access, AccessLog::dropped)
          .description("Access log lines dropped because the writer could not keep up or failed")
          .register(registry);
      FunctionCounter.builder("sluice.access.log.lines", access, AccessLog::written)
          .description("Access log lines written")
          .register(registry);
    }
  }

  private Counter counter(String policy, int outcome, int via) {
    AtomicReferenceArray<Counter> byOutcome = requests.get(policy);
    if (byOutcome == null) {
      byOutcome = requests.computeIfAbsent(policy, p -> new AtomicReferenceArray<>(OUTCOMES.length * VIAS.length));
    }
    int slot = via * OUTCOMES.length + outcome;
    Counter counter = byOutcome.get(slot);
    if (counter == null) {
      // Registering twice is harmless (the registry returns the existing meter), so no lock.
      counter = requestsCounter(policy, OUTCOMES[outcome], VIAS[via]);
      byOutcome.set(slot, counter);
    }
    return counter;
  }

  private Counter requestsCounter(String policy, String outcome, String via) {
    return Counter.builder("sluice.requests")
        .description("Requests by applied policy, outcome and front end (gateway or decision API)")
        .tag("policy", policy)
        .tag("outcome", outcome)
        .tag("via", via)
        .register(registry);
  }

  private static int outcomeIndex(String outcome) {
    // The labels are string constants (interned): compare references first, text only on a miss.
    for (int i = 0; i < OUTCOMES.length; i++) {
      if (OUTCOMES[i] == outcome) {
        return i;
      }
    }
    for (int i = 0; i < OUTCOMES.length; i++) {
      if (OUTCOMES[i].equals(outcome)) {
        return i;
      }
    }
    return -1;
  }

  private static Duration[] seconds(double... values) {
    Duration[] durations = new Duration[values.length];
    for (int i = 0; i < values.length; i++) {
      durations[i] = Duration.ofNanos(Math.round(values[i] * 1e9));
    }
    return durations;
  }
}
