package dev.sluice.config;

import dev.sluice.policy.Penalty;
import dev.sluice.policy.PolicyConfigException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads a policy's {@code penalty:} ({@link Penalty}): the ban, how it escalates, its cap and
 * whom it covers.
 */
final class PenaltySection {
  static final List<String> FIELDS = List.of("ban", "escalate", "max", "scope");
  /** {@code penalty.max} when not given (and the ban is shorter). */
  static final Duration DEFAULT_MAX_BAN = Duration.ofHours(24);
  /** {@code 2x}: a whole factor of at least 1, written with its x so nobody reads it as minutes. */
  private static final Pattern ESCALATE = Pattern.compile("([0-9]{1,6})[xX]");
  private static final Map<String, Penalty.Scope> SCOPES =
      Walker.byName(Penalty.Scope.values(), Penalty.Scope::configName);

  private PenaltySection() {}

  /**
   * {@code penalty: { ban: 15m, escalate: 2x, max: 24h, scope: policy }}; only {@code ban} is
   * required. Null after reporting an error.
   */
  static Penalty read(Walker w, Node node, String path) {
    Walker.Fields f = w.fields(node, path, FIELDS);
    if (f == null) {
      return null;
    }
    int before = w.errors().size();
    Duration ban = null;
    if (!f.has("ban")) {
      w.error(node, Messages.missing(path + ".ban", "ban: 15m"));
    } else {
      ban = w.duration(f.get("ban"), path + ".ban");
    }
    long escalate = 1;
    if (f.has("escalate")) {
      String text = w.string(f.get("escalate"), path + ".escalate");
      Matcher m = text == null ? null : ESCALATE.matcher(text.strip());
      if (m != null && m.matches()) {
        escalate = Long.parseLong(m.group(1));
      } else if (text != null) {
        w.error(f.get("escalate"), Messages.badEscalate(path + ".escalate", text));
      }
    }
    Duration max = f.has("max") ? w.duration(f.get("max"), path + ".max") : null;
    Penalty.Scope scope = f.has("scope") ? w.choice(f.get("scope"), path + ".scope", SCOPES) : Penalty.Scope.POLICY;
    if (w.errors().size() != before) {
      return null;
    }
    Duration b = ban;
    Duration m = max != null ? max : (ban.compareTo(DEFAULT_MAX_BAN) > 0 ? ban : DEFAULT_MAX_BAN);
    try {
      return new Penalty(b, escalate, m, scope);
    } catch (PolicyConfigException e) {
      // The record names its field relative to the policy (penalty.max).
      String full = path.substring(0, path.length() - "penalty".length()) + e.path();
      w.error(w.nodeFor(full, node), Messages.prefixed(full, e.getMessage()));
      return null;
    }
  }
}
