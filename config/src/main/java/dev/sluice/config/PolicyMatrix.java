package dev.sluice.config;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.limit.LimitParser;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.policy.Priority;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The effective policy matrix that {@code sluice check} prints: one row per policy (route,
 * methods, identity chain, limits with their burst, algorithm, cost, mode and on_error), then one
 * line per policy using abuse control (count, penalty, concurrency, priority), then the defaults,
 * exemptions and blocks, then warnings about risky but valid set-ups.
 *
 * <p>Plain fixed-width text (no colours, no box characters) so it reads the same in a terminal, a
 * CI log and a diff.
 */
public final class PolicyMatrix {
  private static final List<String> HEADER =
      List.of("POLICY", "ROUTE", "METHODS", "IDENTITY", "LIMITS", "ALGORITHM", "COST", "MODE", "ON_ERROR");

  private PolicyMatrix() {}

  /**
   * Renders the matrix of {@code config}; every line ends with {@code \n}.
   *
   * @return the table, a summary line above it and any warnings below it
   */
  public static String render(SluiceConfig config) {
    PolicySet set = config.policies();
    List<List<List<String>>> rows = new ArrayList<>();
    for (Policy p : set.policies()) {
      rows.add(row(p, set, paths(p)));
    }
    set.defaults().ifPresent(d -> rows.add(row(d, set, List.of("(no enforced policy)"))));

    StringBuilder out = new StringBuilder();
    StoreSettings store = config.store();
    out.append(config.source()).append(": valid; ")
        .append(set.policies().size()).append(set.policies().size() == 1 ? " policy" : " policies")
        .append(set.defaults().isPresent() ? " + defaults" : ", no defaults")
        .append("; store ").append(store.type().configName())
        .append(" (on_error ").append(store.onError().configName())
        .append(", timeout ").append(duration(store.timeout())).append(")")
        .append("; headers ").append(config.headers().configName())
        .append('\n')
        .append(config.runsGateway()
            ? "gateway: listen " + hostPort(config.gateway().listen()) + " -> upstream " + config.gateway().upstream()
            : "gateway: off (no gateway.upstream)")
        .append(config.decision().map(d -> "; decision API " + hostPort(d.listen())
            + " (ticket_lease " + duration(d.ticketLease()) + ")").orElse(""))
        .append("; admin ").append(hostPort(config.gateway().admin()))
        .append(config.gateway().adminToken().isPresent() ? " (admin API token required)" : "")
        .append(config.gateway().limitsInflight()
            ? "; max_inflight " + config.gateway().maxInflight() + " (shed low first, critical last)" : "")
        .append('\n').append('\n');
    table(out, rows);
    if (rows.isEmpty()) {
      out.append("(no policies)\n");
    }

    List<String> exempt = new ArrayList<>();
    if (!set.exemptIps().isEmpty()) {
      exempt.add("ips " + set.exemptIps().cidrs().stream().map(Object::toString).collect(Collectors.joining(", ")));
    }
    if (!set.exemptApiKeys().isEmpty()) {
      int n = set.exemptApiKeys().size();
      exempt.add(n + (n == 1 ? " api key" : " api keys"));
    }
    List<String> abuse = abuseNotes(set);
    abuse.addAll(RolloutShare.notes(set));
    if (!abuse.isEmpty()) {
      out.append('\n');
      for (String note : abuse) {
        out.append(note).append('\n');
      }
    }
    out.append('\n').append("exempt: ").append(exempt.isEmpty() ? "none" : String.join("; ", exempt)).append('\n');
    List<String> block = new ArrayList<>();
    if (!set.blockIps().isEmpty()) {
      block.add("ips " + set.blockIps().cidrs().stream().map(Object::toString).collect(Collectors.joining(", ")));
    }
    if (!set.blockApiKeys().isEmpty()) {
      int n = set.blockApiKeys().size();
      block.add(n + (n == 1 ? " api key" : " api keys"));
    }
    if (!block.isEmpty()) {
      out.append("block (403): ").append(String.join("; ", block)).append('\n');
    }
    if (set.defaults().isEmpty()) {
      out.append("defaults: none (requests that match no policy are not limited)\n");
    }
    for (String warning : config.warnings()) {
      out.append("warning: ").append(warning).append('\n');
    }
    return out.toString();
  }

  /**
   * One line per policy that uses abuse control (SPEC §7), e.g. {@code login-failures: counts
   * 401, 4xx; penalty ban 15m, escalate 2x, max 24h, scope policy; priority critical}. Kept out of
   * the table so the common case stays narrow.
   */
  static List<String> abuseNotes(PolicySet set) {
    List<Policy> all = new ArrayList<>(set.policies());
    set.defaults().ifPresent(all::add);
    List<String> notes = new ArrayList<>();
    for (Policy p : all) {
      List<String> parts = new ArrayList<>();
      if (!p.count().isEmpty()) {
        parts.add("counts only upstream statuses "
            + p.count().stream().map(Object::toString).collect(Collectors.joining(", ")));
      }
      p.penalty().ifPresent(penalty -> parts.add("penalty ban " + duration(penalty.ban())
          + ", escalate " + penalty.escalate() + "x, max " + duration(penalty.max())
          + ", scope " + penalty.scope().configName()));
      if (p.concurrency() > 0) {
        parts.add("concurrency " + p.concurrency() + " in flight per identity");
      }
      if (p.priority() != Priority.NORMAL) {
        parts.add("priority " + p.priority().configName());
      }
      if (!parts.isEmpty()) {
        notes.add(p.name() + ": " + String.join("; ", parts));
      }
    }
    return notes;
  }

  /**
   * A duration as a policy file would write it: the largest whole unit of h, m, s, ms; days only
   * beyond 48h (people write 24h, not 1d).
   */
  static String duration(Duration d) {
    return dev.sluice.time.DurationText.format(d);
  }

  private static List<String> paths(Policy p) {
    return p.paths();
  }

  private static List<List<String>> row(Policy p, PolicySet set, List<String> route) {
    List<String> limits = new ArrayList<>();
    for (Limit limit : p.limits()) {
      limits.add(describe(limit, p.algorithm()));
    }
    return List.of(
        List.of(p.name()),
        route,
        List.of(p.methods().isEmpty() ? "any" : String.join(",", p.methods())),
        List.of(chain(p.by())),
        limits,
        List.of(p.algorithm().configName()),
        List.of(Long.toString(p.cost())),
        List.of(RolloutShare.describe(p)),
        List.of(set.onErrorOf(p).configName() + (p.onError().isPresent() ? "" : " (store)")));
  }

  private static String describe(Limit limit, Algorithm algorithm) {
    String text;
    try {
      text = LimitParser.format(new Limit(limit.quantity(), limit.periodNanos(), limit.quantity(), null));
    } catch (IllegalArgumentException e) {
      text = limit.text();
    }
    return algorithm == Algorithm.SLIDING_WINDOW ? text + " (window)" : text + " (burst " + limit.burst() + ")";
  }

  /** {@code api_key > ip}; a chain that does not end in ip or global falls back to ip. */
  static String chain(List<IdentitySpec> by) {
    String text = by.stream().map(IdentitySpec::toString).collect(Collectors.joining(" > "));
    IdentityKind last = by.isEmpty() ? null : by.get(by.size() - 1).kind();
    if (last != IdentityKind.IP && last != IdentityKind.GLOBAL) {
      text += " (else ip)";
    }
    return text;
  }

  private static void table(StringBuilder out, List<List<List<String>>> rows) {
    int[] width = new int[HEADER.size()];
    for (int c = 0; c < width.length; c++) {
      width[c] = HEADER.get(c).length();
      for (List<List<String>> row : rows) {
        for (String line : row.get(c)) {
          width[c] = Math.max(width[c], line.length());
        }
      }
    }
    line(out, width, HEADER);
    List<String> rule = new ArrayList<>();
    for (int w : width) {
      rule.add("-".repeat(w));
    }
    line(out, width, rule);
    for (List<List<String>> row : rows) {
      int height = row.stream().mapToInt(List::size).max().orElse(1);
      for (int i = 0; i < height; i++) {
        List<String> cells = new ArrayList<>();
        for (List<String> cell : row) {
          cells.add(i < cell.size() ? cell.get(i) : "");
        }
        line(out, width, cells);
      }
    }
  }

  private static void line(StringBuilder out, int[] width, List<String> cells) {
    StringBuilder l = new StringBuilder();
    for (int c = 0; c < cells.size(); c++) {
      l.append(cells.get(c));
      if (c < cells.size() - 1) {
        l.append(" ".repeat(width[c] - cells.get(c).length() + 2));
      }
    }
    out.append(l.toString().stripTrailing()).append('\n');
  }

  private static String hostPort(java.net.InetSocketAddress a) {
    String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
  }
}
