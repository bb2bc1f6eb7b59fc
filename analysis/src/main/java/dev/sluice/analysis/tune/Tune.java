package dev.sluice.analysis.tune;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.analysis.logs.LineParser;
import dev.sluice.analysis.logs.LogLine;
import dev.sluice.analysis.logs.LogReader;
import dev.sluice.analysis.replay.ClientKeys;
import dev.sluice.analysis.replay.EngineDriver;
import dev.sluice.config.SluiceConfig;
import dev.sluice.engine.Decision;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code sluice tune}. Pass 1 streams the log through the real engine ({@link EngineDriver}) so
 * each request is counted for exactly the policies and under exactly the identity the gateway
 * would use, and keeps per policy, limit and identity the exact sliding-window maximum of its
 * demand ({@link PeakWindow}). The suggested quantity is the {@code quantile} of those peaks
 * (nearest rank) times {@code headroom}, rounded up: an identity at or below the quantile never
 * sent more than N/headroom in any window, so neither a sliding window nor a GCRA bucket of that
 * rate and a burst of N would have refused it. Pass 2 (GCRA limits only) reads the log again and
 * computes each identity's {@link BurstNeed} at the suggested rate; the suggested burst is that
 * need's quantile times headroom (written only when below N).
 *
 * <p>Exempt requests are never decided by the engine; for partners they are counted as the
 * engine would count them without the exemption: under each matching policy's first identity
 * the line has ({@code api_key} when known, else {@code ip}).
 *
 * <p>Memory: one {@link PeakWindow} per identity and limit (its busiest window's request times),
 * independent of the log's length.
 */
public final class Tune {
  private final SluiceConfig config;
  private final ClientKeys keys;
  private final double quantile;
  private final double headroom;
  private final Map<String, String> partners;
  private final List<Slot> slots = new ArrayList<>();
  private final Map<String, List<Slot>> byPolicy = new HashMap<>();

  /** One policy limit's per-identity state. */
  private static final class Slot {
    final Policy policy;
    final int index;
    final Limit limit;
    final Map<String, PeakWindow> peaks = new HashMap<>();
    final Map<String, BurstNeed> needs = new HashMap<>();
    /** Demand of exempt requests: never in the distribution, only checked for partners. */
    final Map<String, PeakWindow> exemptPeaks = new HashMap<>();
    final Map<String, BurstNeed> exemptNeeds = new HashMap<>();
    double tokensPerNano;

    Slot(Policy policy, int index) {
      this.policy = policy;
      this.index = index;
      this.limit = policy.limits().get(index);
    }
  }

  public Tune(SluiceConfig config, ClientKeys keys, double quantile, double headroom) {
    if (!(quantile > 0 && quantile <= 1)) {
      throw new IllegalArgumentException("--quantile must be in (0, 1], got " + quantile);
    }
    if (!(headroom >= 1) || Double.isInfinite(headroom)) {
      throw new IllegalArgumentException("--headroom must be at least 1, got " + headroom);
    }
    this.config = config;
    this.keys = keys;
    this.quantile = quantile;
    this.headroom = headroom;
    PolicySet set = config.policies();
    List<Policy> all = new ArrayList<>(set.policies());
    set.defaults().ifPresent(all::add);
    for (Policy p : all) {
      for (int i = 0; i < p.limits().size(); i++) {
        Slot s = new Slot(p, i);
        slots.add(s);
        byPolicy.computeIfAbsent(p.name(), k -> new ArrayList<>()).add(s);
      }
    }
    this.partners = partners(config, keys);
  }

  /** Known partners by identity key: exempt API keys and keys_file keys ({@code api_key:hash}). */
  private static Map<String, String> partners(SluiceConfig config, ClientKeys keys) {
    Map<String, String> known = new LinkedHashMap<>();
    IdentityResolver resolver = config.policies().identity();
    int n = 1;
    for (String key : config.policies().exemptApiKeys()) {
      String hash = resolver.secretValue(key);
      if (hash != null) {
        known.put("api_key:" + hash, "exempt.api_keys entry " + n);
      }
      n++;
    }
    keys.keysFile().forEach((hash, where) -> known.putIfAbsent("api_key:" + hash, where));
    return known;
  }

  /** The partner source of an identity key, or null; exempt IPs are checked by address. */
  private String partnerOf(String identityKey) {
    String known = partners.get(identityKey);
    if (known != null || !identityKey.startsWith("ip:")) {
      return known;
    }
    String ip = identityKey.substring(3);
    if (ip.indexOf('/') >= 0 || config.policies().exemptIps().isEmpty()) {
      return null;
    }
    try {
      InetAddress address = InetAddress.getByName(ip); // a literal the resolver formatted
      return config.policies().exemptIps().contains(address) ? "exempt.ips" : null;
    } catch (java.net.UnknownHostException e) {
      return null;
    }
  }

  /**
   * Runs both passes over {@code log}.
   *
   * @param parsers a fresh parser per pass
   * @throws IOException when the log cannot be read
   */
  public TuneReport run(Path log, Supplier<LineParser> parsers) throws IOException {
    LogReader first = new LogReader(parsers.get());
    long[] span = {-1, -1};
    EngineDriver pass1 = new EngineDriver(config, keys);
    first.read(log, line -> {
      if (span[0] < 0) {
        span[0] = line.epochNanos();
      }
      span[1] = Math.max(span[1], line.epochNanos());
      each(pass1, line, (slot, identity, nanos, exempt) -> (exempt ? slot.exemptPeaks : slot.peaks)
          .computeIfAbsent(identity, k -> new PeakWindow()).add(nanos, slot.limit.periodNanos()));
    });
    pass1.finish();
    List<long[]> sorted = new ArrayList<>();
    List<Long> suggestedN = new ArrayList<>();
    boolean needsPass2 = false;
    for (Slot s : slots) {
      long[] peaks = new long[s.peaks.size()];
      int i = 0;
      for (PeakWindow w : s.peaks.values()) {
        peaks[i++] = w.peak * s.policy.cost();
      }
      Arrays.sort(peaks);
      sorted.add(peaks);
      long n = peaks.length == 0 ? s.limit.quantity() : Math.max(s.policy.cost(), ceil(rank(peaks, quantile) * headroom));
      suggestedN.add(n);
      s.tokensPerNano = (double) n / s.limit.periodNanos();
      needsPass2 |= s.policy.algorithm() == Algorithm.GCRA && peaks.length > 0;
    }
    if (needsPass2) {
      EngineDriver pass2 = new EngineDriver(config, keys);
      new LogReader(parsers.get()).read(log, line -> each(pass2, line, (slot, identity, nanos, exempt) -> {
        if (slot.policy.algorithm() == Algorithm.GCRA) {
          (exempt ? slot.exemptNeeds : slot.needs).computeIfAbsent(identity, k -> new BurstNeed())
              .add(nanos, slot.policy.cost(), slot.tokensPerNano);
        }
      }));
      pass2.finish();
    }
    List<TuneReport.LimitReport> limits = new ArrayList<>();
    for (int k = 0; k < slots.size(); k++) {
      limits.add(report(slots.get(k), sorted.get(k), suggestedN.get(k)));
    }
    return new TuneReport(log.getFileName().toString(), first.requests(), first.malformed(), first.problems(),
        span[0], span[1], quantile, headroom, limits);
  }

  private TuneReport.LimitReport report(Slot s, long[] peaks, long n) {
    long burst = n;
    Map<String, Long> needOf = new HashMap<>();
    if (s.policy.algorithm() == Algorithm.GCRA && !s.needs.isEmpty()) {
      long[] needs = new long[s.needs.size()];
      int i = 0;
      for (Map.Entry<String, BurstNeed> e : s.needs.entrySet()) {
        long need = ceil(e.getValue().need - 1e-9);
        needs[i++] = need;
        needOf.put(e.getKey(), need);
      }
      Arrays.sort(needs);
      burst = Math.max(s.policy.cost(), Math.min(n, ceil(rank(needs, quantile) * headroom)));
    }
    long overCurrent = peaks.length - countAtMost(peaks, s.limit.quantity());
    long overSuggested = peaks.length - countAtMost(peaks, n);
    for (Map.Entry<String, BurstNeed> e : s.exemptNeeds.entrySet()) {
      needOf.merge(e.getKey(), ceil(e.getValue().need - 1e-9), Math::max);
    }
    Map<String, Long> partnerPeaks = new HashMap<>();
    s.peaks.forEach((k, w) -> partnerPeaks.put(k, w.peak));
    s.exemptPeaks.forEach((k, w) -> partnerPeaks.merge(k, w.peak, Math::max));
    List<TuneReport.Partner> hit = new ArrayList<>();
    for (Map.Entry<String, Long> e : partnerPeaks.entrySet()) {
      String source = partnerOf(e.getKey());
      if (source == null) {
        continue;
      }
      long peak = e.getValue() * s.policy.cost();
      long need = needOf.getOrDefault(e.getKey(), peak);
      boolean limited = s.policy.algorithm() == Algorithm.GCRA ? need > burst : peak > n;
      if (limited) {
        hit.add(new TuneReport.Partner(e.getKey(), source, peak, need));
      }
    }
    hit.sort((a, b) -> Long.compare(b.peak(), a.peak()));
    String text = LimitText.of(n, s.limit.periodNanos(), burst < n ? burst : 0);
    return new TuneReport.LimitReport(s.policy.name(), s.index, s.limit.text(), s.policy.algorithm().configName(),
        s.policy.cost(), peaks.length, rank(peaks, 0.5), rank(peaks, 0.9), rank(peaks, 0.99), rank(peaks, 0.999),
        peaks.length == 0 ? 0 : peaks[peaks.length - 1], overCurrent, n, burst, text, overSuggested, hit, peaks);
  }

  /** What a pass does with one (limit, identity, time). */
  @FunctionalInterface
  private interface Sink {
    void add(Slot slot, String identity, long nanos, boolean exempt);
  }

  private void each(EngineDriver driver, LogLine line, Sink sink) {
    Decision decision = "exempt".equals(line.outcome()) ? null : driver.decide(line);
    if (decision != null && !decision.exempt()) {
      for (PolicyDecision pd : decision.policies()) {
        List<Slot> list = byPolicy.get(pd.policy().name());
        if (list != null && pd.identity() != null) {
          for (Slot s : list) {
            sink.add(s, pd.identity().key(), line.epochNanos(), false);
          }
        }
      }
      return;
    }
    if (decision == null && !"exempt".equals(line.outcome())) {
      return; // unreadable client address
    }
    exemptDemand(line, sink);
  }

  /** An exempt request, counted where it would count without its exemption (see the class comment). */
  private void exemptDemand(LogLine line, Sink sink) {
    PolicySet set = config.policies();
    IdentityResolver resolver = set.identity();
    String apiKey = line.apiKey() != null ? resolver.secretValue(line.apiKey()) : line.identities().get("api_key");
    String ip;
    try {
      ip = resolver.ipValue(InetAddress.getByName(line.clientIp().indexOf(':') >= 0 || line.clientIp().matches("[0-9.]+")
          ? line.clientIp() : "0.0.0.0"));
    } catch (java.net.UnknownHostException e) {
      return;
    }
    boolean matched = false;
    for (Policy p : set.policies()) {
      if (p.matcher().matches(line.method(), line.path())) {
        matched = true;
        add(p, apiKey, ip, line.epochNanos(), sink);
      }
    }
    if (!matched) {
      set.defaults().ifPresent(p -> add(p, apiKey, ip, line.epochNanos(), sink));
    }
  }

  private void add(Policy p, String apiKey, String ip, long nanos, Sink sink) {
    String identity = "ip:" + ip;
    for (IdentitySpec spec : p.by()) {
      if (spec.toString().equals("api_key") && apiKey != null) {
        identity = "api_key:" + apiKey;
        break;
      }
      if (spec.toString().equals("ip")) {
        break;
      }
    }
    for (Slot s : byPolicy.getOrDefault(p.name(), List.of())) {
      sink.add(s, identity, nanos, true);
    }
  }

  /** The nearest-rank quantile of an ascending array (0 when empty). */
  static long rank(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int index = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  private static long countAtMost(long[] sorted, long value) {
    int lo = 0;
    int hi = sorted.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (sorted[mid] <= value) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  private static long ceil(double value) {
    return (long) Math.ceil(value - 1e-9);
  }
}
