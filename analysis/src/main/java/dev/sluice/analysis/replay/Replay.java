package dev.sluice.analysis.replay;

import dev.sluice.analysis.logs.LineParser;
import dev.sluice.analysis.logs.LogLine;
import dev.sluice.analysis.logs.LogReader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.engine.Decision;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.event.OutcomeWords;
import dev.sluice.policy.Mode;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.policy.Rollout;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code sluice replay}: streams a log through an {@link EngineDriver} and counts, per policy,
 * what the engine decided. Memory is bounded by the store's {@code max_keys} and by {@link
 * #TOP_CAPACITY} identities per policy, never by the log's length.
 *
 * <p>A line Sluice logged as {@code exempt} stays exempt: the log does not carry the API key an
 * {@code exempt.api_keys} entry matched (only its hash, and only for decided requests), so the
 * engine could not see that exemption again. Every other line is decided afresh.
 */
public final class Replay {
  /** Distinct limited identities counted exactly per policy; see {@link TopCounter}. */
  public static final int TOP_CAPACITY = 10_000;

  /** Sees each decided line (for tests and tools); {@code decision} is null for an exempt-as-logged line. */
  @FunctionalInterface
  public interface Observer {
    void decided(LogLine line, Decision decision, String outcome);
  }

  private final SluiceConfig config;
  private final EngineDriver driver;
  private final Map<String, Counts> byPolicy = new LinkedHashMap<>();
  private final Map<String, Long> outcomes = new TreeMap<>();
  private final Map<String, Long> changed = new TreeMap<>();
  private final Observer observer;
  private long firstNanos = -1;
  private long lastNanos = -1;
  private long requests;

  private static final class Counts {
    long requests;
    long limited;
    long shadowLimited;
    long banned;
    long firstLimited = -1;
    final TopCounter top = new TopCounter(TOP_CAPACITY);
  }

  public Replay(SluiceConfig config, ClientKeys keys, Observer observer) {
    this.config = config;
    this.driver = new EngineDriver(config, keys);
    this.observer = observer;
    PolicySet set = config.policies();
    for (Policy p : set.policies()) {
      byPolicy.put(p.name(), new Counts());
    }
    set.defaults().ifPresent(p -> byPolicy.put(p.name(), new Counts()));
  }

  /**
   * Replays {@code log} with {@code parser} and reports.
   *
   * @throws IOException when the log cannot be read
   */
  public ReplayReport run(Path log, LineParser parser, String formatName) throws IOException {
    long start = System.nanoTime();
    LogReader reader = new LogReader(parser);
    reader.read(log, this::accept);
    driver.finish();
    return report(log.getFileName().toString(), formatName, reader, (System.nanoTime() - start) / 1e9);
  }

  /** Decides one line (for callers that read lines themselves). */
  public void accept(LogLine line) {
    String outcome;
    Decision decision = null;
    if ("exempt".equals(line.outcome())) {
      outcome = "exempt";
    } else {
      decision = driver.decide(line);
      if (decision == null) {
        return;
      }
      outcome = OutcomeWords.of(decision);
      count(decision, line.epochNanos());
    }
    requests++;
    if (firstNanos < 0) {
      firstNanos = line.epochNanos();
    }
    lastNanos = Math.max(lastNanos, line.epochNanos());
    outcomes.merge(outcome, 1L, Long::sum);
    if (line.outcome() != null && !line.outcome().equals(outcome)) {
      changed.merge(line.outcome() + "→" + outcome, 1L, Long::sum);
    }
    if (observer != null) {
      observer.decided(line, decision, outcome);
    }
  }

  private void count(Decision decision, long nanos) {
    for (PolicyDecision pd : decision.policies()) {
      Counts c = byPolicy.get(pd.policy().name());
      if (c == null) {
        continue;
      }
      c.requests++;
      if (pd.allowed()) {
        continue;
      }
      if (pd.blocked()) {
        c.banned++;
      } else if (pd.shadow()) {
        c.shadowLimited++;
      } else if (pd.storeError() || pd.storeFull()) {
        continue;
      } else {
        c.limited++;
      }
      if (c.firstLimited < 0) {
        c.firstLimited = nanos;
      }
      if (pd.identity() != null) {
        c.top.add(pd.identity().key(), nanos);
      }
    }
  }

  /** The report of what was accepted so far. */
  public ReplayReport report(String log, String format, LogReader reader, double seconds) {
    List<ReplayReport.PolicyReport> policies = new ArrayList<>();
    PolicySet set = config.policies();
    List<Policy> all = new ArrayList<>(set.policies());
    set.defaults().ifPresent(all::add);
    for (Policy p : all) {
      Counts c = byPolicy.get(p.name());
      policies.add(new ReplayReport.PolicyReport(p.name(), mode(p), c.requests, c.limited, c.shadowLimited, c.banned,
          c.firstLimited, c.top.top(10), c.top.approximate()));
    }
    return new ReplayReport(log, format, reader == null ? requests : reader.lines(), requests,
        reader == null ? 0 : reader.malformed(), reader == null ? List.of() : reader.problems(),
        driver.unreadableClients(), driver.linesBehind(), firstNanos, lastNanos, Map.copyOf(outcomes),
        Map.copyOf(changed), policies, seconds);
  }

  static String mode(Policy p) {
    if (p.mode() == Mode.SHADOW) {
      return "shadow";
    }
    if (p.rollout() < Rollout.ALL) {
      return "rollout " + (p.rollout() / 100.0) + "%";
    }
    return "enforce";
  }
}
