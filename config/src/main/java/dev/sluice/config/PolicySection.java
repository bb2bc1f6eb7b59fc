package dev.sluice.config;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.match.EncodedSlashes;
import dev.sluice.match.PathPattern;
import dev.sluice.policy.Mode;
import dev.sluice.policy.OnError;
import dev.sluice.policy.Penalty;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.policy.Priority;
import dev.sluice.policy.StatusRange;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads {@code defaults:} and {@code policies:} into the core's {@link Policy} builders: the
 * match, {@code by}, limits and every per-policy option ({@code penalty:} through {@link
 * PenaltySection}). The core builders own the rules that relate fields (cost versus capacity,
 * duplicate names); their errors are placed under {@code policies[i]}.
 */
final class PolicySection {
  static final List<String> DEFAULTS = List.of("by", "limits");
  static final List<String> POLICY = List.of("name", "match", "by", "limits", "algorithm", "cost",
      "mode", "on_error", "count", "penalty", "concurrency", "priority", "rollout");
  private static final List<String> COUNT = List.of("status");
  private static final List<String> MATCH = List.of("methods", "paths");
  /** Upper bound of {@code concurrency} and {@code gateway.max_inflight}: beyond it is a typo. */
  static final long MAX_CONCURRENCY = 1_000_000;

  private static final Map<String, OnError> ON_ERRORS = Walker.byName(OnError.values(), OnError::configName);
  private static final Map<String, Algorithm> ALGORITHMS = Walker.byName(Algorithm.values(), Algorithm::configName);
  private static final Map<String, Mode> MODES = Walker.byName(Mode.values(), Mode::configName);
  private static final Map<String, Priority> PRIORITIES = Walker.byName(Priority.values(), Priority::configName);

  private static final IdentitySpec IP = new IdentitySpec(IdentityKind.IP, null);

  private final Walker w;
  private final IdentityUses identities;
  /** {@code gateway.encoded_slashes}: patterns with an encoded slash need {@code keep}. */
  private final EncodedSlashes encodedSlashes;

  PolicySection(Walker w, IdentityUses identities, EncodedSlashes encodedSlashes) {
    this.w = w;
    this.identities = identities;
    this.encodedSlashes = encodedSlashes;
  }

  void defaults(Node node, PolicySet.Builder set) {
    if (node == null) {
      return;
    }
    Walker.Fields f = w.fields(node, "defaults", DEFAULTS);
    if (f == null) {
      return;
    }
    int before = w.errors().size();
    List<IdentitySpec> by = f.has("by") ? identities.read(f.get("by"), "defaults.by") : List.of(IP);
    List<Limit> limits = null;
    if (!f.has("limits")) {
      w.error(node, Messages.missing("defaults.limits", "limits: [\"100/minute\"]"));
    } else {
      limits = ListValues.limits(w, f.get("limits"), "defaults.limits");
    }
    if (w.errors().size() == before && by != null && limits != null) {
      List<Limit> l = limits;
      CoreSteps.run(w, node, "defaults", () -> set.defaults(by, l));
    }
  }

  void policies(Node node, PolicySet.Builder set) {
    if (node == null) {
      return;
    }
    List<Node> items = w.sequence(node, "policies");
    if (items == null) {
      return;
    }
    for (int i = 0; i < items.size(); i++) {
      Policy p = policy(items.get(i), "policies[" + i + "]");
      if (p != null) {
        set.policy(p);
      }
    }
  }

  private Policy policy(Node node, String path) {
    Walker.Fields f = w.fields(node, path, POLICY);
    if (f == null) {
      return null;
    }
    int before = w.errors().size();
    String name = null;
    if (!f.has("name")) {
      w.error(node, Messages.missing(path + ".name", "name: login"));
    } else {
      name = w.string(f.get("name"), path + ".name");
    }
    List<String> methods = null;
    List<String> paths = null;
    if (!f.has("match")) {
      w.error(node, Messages.missing(path + ".match.paths", "match: { paths: [\"/api/**\"] }"));
    } else {
      Walker.Fields m = w.fields(f.get("match"), path + ".match", MATCH);
      if (m != null) {
        if (m.has("methods")) {
          methods = ListValues.strings(w, m.get("methods"), path + ".match.methods");
        }
        if (!m.has("paths")) {
          w.error(m.node(), Messages.missing(path + ".match.paths", "paths: [\"/api/**\"]"));
        } else {
          paths = pathPatterns(m.get("paths"), path + ".match.paths");
        }
      }
    }
    List<IdentitySpec> by = f.has("by") ? identities.read(f.get("by"), path + ".by") : null;
    List<Limit> limits = null;
    if (!f.has("limits")) {
      w.error(node, Messages.missing(path + ".limits", "limits: [\"100/minute\"]"));
    } else {
      limits = ListValues.limits(w, f.get("limits"), path + ".limits");
    }
    Algorithm algorithm = f.has("algorithm") ? w.choice(f.get("algorithm"), path + ".algorithm", ALGORITHMS) : null;
    Long cost = f.has("cost") ? w.integer(f.get("cost"), path + ".cost", 1, Long.MAX_VALUE) : null;
    Mode mode = f.has("mode") ? w.choice(f.get("mode"), path + ".mode", MODES) : null;
    OnError onError = f.has("on_error") ? w.choice(f.get("on_error"), path + ".on_error", ON_ERRORS) : null;
    List<StatusRange> count = f.has("count") ? count(f.get("count"), path + ".count") : null;
    Penalty penalty = f.has("penalty") ? PenaltySection.read(w, f.get("penalty"), path + ".penalty") : null;
    Long concurrency = f.has("concurrency")
        ? w.integer(f.get("concurrency"), path + ".concurrency", 1, MAX_CONCURRENCY) : null;
    Priority priority = f.has("priority") ? w.choice(f.get("priority"), path + ".priority", PRIORITIES) : null;
    Integer rollout = f.has("rollout") ? rollout(f.get("rollout"), path + ".rollout") : null;
    if (w.errors().size() != before) {
      return null;
    }
    String n = name;
    List<String> ms = methods;
    List<String> ps = paths;
    List<Limit> ls = limits;
    // The builder reports paths relative to the policy; place them under policies[i].
    return CoreSteps.get(w, node, path, () -> {
      Policy.Builder b = Policy.builder(n);
      if (ms != null) {
        b.methods(ms);
      }
      b.paths(ps);
      if (by != null) {
        b.by(by);
      }
      b.limits(ls);
      if (algorithm != null) {
        b.algorithm(algorithm);
      }
      if (cost != null) {
        b.cost(cost);
      }
      if (mode != null) {
        b.mode(mode);
      }
      if (onError != null) {
        b.onError(onError);
      }
      if (count != null) {
        b.count(count);
      }
      if (penalty != null) {
        b.penalty(penalty);
      }
      if (concurrency != null) {
        b.concurrency(concurrency.intValue());
      }
      if (priority != null) {
        b.priority(priority);
      }
      if (rollout != null) {
        b.rollout(rollout);
      }
      return b.build();
    });
  }

  /** {@code rollout: 10%}: basis points, or null after reporting a bad share. */
  private Integer rollout(Node node, String path) {
    String text = w.nonBlank(node, path);
    if (text == null) {
      return null;
    }
    int share = RolloutShare.parse(text);
    if (share < 0) {
      w.error(node, Messages.badRollout(path, text));
      return null;
    }
    return share;
  }

  /** {@code count: { status: [401, 403, "4xx"] }}. */
  private List<StatusRange> count(Node node, String path) {
    Walker.Fields f = w.fields(node, path, COUNT);
    if (f == null) {
      return null;
    }
    if (!f.has("status")) {
      w.error(node, Messages.missing(path + ".status", "status: [401, 403]"));
      return null;
    }
    String listPath = path + ".status";
    List<Node> items = w.oneOrMany(f.get("status"), listPath);
    if (items == null) {
      return null;
    }
    if (items.isEmpty()) {
      w.error(f.get("status"), Messages.emptyList(listPath, "[401, 403] or [4xx]"));
      return null;
    }
    List<StatusRange> out = new ArrayList<>();
    Map<StatusRange, Node> seen = new HashMap<>();
    boolean ok = true;
    for (int i = 0; i < items.size(); i++) {
      String itemPath = listPath + "[" + i + "]";
      String text = w.string(items.get(i), itemPath);
      if (text == null) {
        ok = false;
        continue;
      }
      try {
        StatusRange range = StatusRange.parse(text.strip());
        if (seen.containsKey(range)) {
          w.error(items.get(i), Messages.duplicateEntry(itemPath, text, seen.get(range).getStartMark().getLine() + 1));
          ok = false;
        } else {
          seen.put(range, items.get(i));
          out.add(range);
        }
      } catch (IllegalArgumentException e) {
        w.error(items.get(i), Messages.prefixed(itemPath, e.getMessage()));
        ok = false;
      }
    }
    return ok ? out : null;
  }

  private List<String> pathPatterns(Node node, String path) {
    List<Node> items = w.oneOrMany(node, path);
    if (items == null) {
      return null;
    }
    if (items.isEmpty()) {
      w.error(node, Messages.emptyList(path, "[\"/api/**\"]"));
      return null;
    }
    List<String> out = ListValues.strings(w, node, path);
    if (out == null) {
      return null;
    }
    boolean ok = true;
    for (int i = 0; i < out.size(); i++) {
      try {
        if (PathPattern.compile(out.get(i)).hasEncodedSlash() && encodedSlashes != EncodedSlashes.KEEP) {
          w.error(items.get(i), Messages.encodedSlashPattern(path + "[" + i + "]", out.get(i), encodedSlashes.configName()));
          ok = false;
        }
      } catch (IllegalArgumentException e) {
        w.error(items.get(i), Messages.prefixed(path + "[" + i + "]", e.getMessage()));
        ok = false;
      }
    }
    return ok ? out : null;
  }
}
