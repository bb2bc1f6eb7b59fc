package dev.sluice.analysis.tune;

import dev.sluice.analysis.replay.ReplayPrinter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders a {@link TuneReport}: a table per limit, then the YAML fragment to paste. */
public final class TunePrinter {
  private TunePrinter() {}

  public static String text(TuneReport r) {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "tuned from %s: %,d requests", r.log(), r.requests()));
    if (r.firstNanos() >= 0) {
      out.append(", ").append(ReplayPrinter.time(r.firstNanos())).append(" … ").append(ReplayPrinter.time(r.lastNanos()));
    }
    out.append(String.format(Locale.ROOT, "; quantile %s, headroom %s%n", r.quantile(), r.headroom()));
    if (r.malformed() > 0) {
      out.append(String.format(Locale.ROOT, "malformed lines skipped: %,d%n", r.malformed()));
      r.problems().forEach(p -> out.append("  ").append(p).append('\n'));
    }
    out.append("peak demand per identity in each limit's window (requests × cost):\n\n");
    out.append(String.format(Locale.ROOT, "%-16s %-24s %9s %7s %7s %7s %7s %8s %9s  %s%n", "POLICY", "LIMIT",
        "IDENTITIES", "P50", "P90", "P99", "P99.9", "MAX", "OVER NOW", "SUGGESTED"));
    for (TuneReport.LimitReport l : r.limits()) {
      out.append(String.format(Locale.ROOT, "%-16s %-24s %9d %7d %7d %7d %7d %8d %9d  %s%n", l.policy(), l.current(),
          l.identities(), l.p50(), l.p90(), l.p99(), l.p999(), l.max(), l.overCurrent(), l.suggested()));
      for (TuneReport.Partner p : l.partners()) {
        out.append(String.format(Locale.ROOT, "    partner %s (%s) would be limited: peak %d%s%n", p.identity(),
            p.source(), p.peak(), p.burstNeed() != p.peak() ? ", needs burst " + p.burstNeed() : ""));
      }
    }
    out.append('\n').append(yaml(r));
    return out.toString();
  }

  /** The suggested limits as a {@code policies:} fragment (and {@code defaults:}), commented. */
  public static String yaml(TuneReport r) {
    Map<String, List<TuneReport.LimitReport>> byPolicy = new LinkedHashMap<>();
    for (TuneReport.LimitReport l : r.limits()) {
      byPolicy.computeIfAbsent(l.policy(), k -> new ArrayList<>()).add(l);
    }
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "# suggested by sluice tune (quantile %s, headroom %s); paste over the limits:%n",
        r.quantile(), r.headroom()));
    StringBuilder defaults = new StringBuilder();
    StringBuilder policies = new StringBuilder();
    for (Map.Entry<String, List<TuneReport.LimitReport>> e : byPolicy.entrySet()) {
      List<String> now = new ArrayList<>();
      List<String> next = new ArrayList<>();
      boolean partnersHit = false;
      for (TuneReport.LimitReport l : e.getValue()) {
        now.add("\"" + l.current() + "\"");
        next.add("\"" + l.suggested() + "\"");
        partnersHit |= !l.partners().isEmpty();
      }
      String comment = "  # was [" + String.join(", ", now) + "]"
          + (partnersHit ? "; a known partner would be limited, see above" : "");
      if (e.getKey().equals("default")) {
        defaults.append("defaults:\n  limits: [").append(String.join(", ", next)).append("]").append(comment).append('\n');
      } else {
        policies.append("  - name: ").append(e.getKey()).append('\n')
            .append("    limits: [").append(String.join(", ", next)).append("]").append(comment).append('\n');
      }
    }
    out.append(defaults);
    if (policies.length() > 0) {
      out.append("policies:\n").append(policies);
    }
    return out.toString();
  }
}
