package dev.sluice.config;

import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.match.PathPattern;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import java.util.ArrayList;
import java.util.List;

/**
 * Risky but valid set-ups, found at load time where the facts are known (whether a keys file was
 * given). SPEC §2: a route identified by {@code api_key} or {@code session} whose values are not
 * checked against a keys file lets clients invent identities, each with fresh buckets, unless an
 * {@code ip} limit covers the same route. The same holds for {@code body:} fields (SPEC §7), which
 * no keys file can check.
 */
final class Warnings {
  private Warnings() {}

  static List<String> of(PolicySet set, boolean apiKeysChecked, boolean sessionsChecked) {
    List<String> warnings = new ArrayList<>();
    List<Policy> all = new ArrayList<>(set.policies());
    set.defaults().ifPresent(all::add);
    for (Policy p : all) {
      for (IdentitySpec spec : p.by()) {
        boolean unchecked = (spec.kind() == IdentityKind.SESSION && !sessionsChecked)
            || (spec.kind() == IdentityKind.API_KEY && !apiKeysChecked);
        boolean chosen = spec.kind() == IdentityKind.BODY;
        if ((!unchecked && !chosen) || hasIpLimit(p, set)) {
          continue;
        }
        String subject = p.name().equals(PolicySet.DEFAULTS_NAME) ? "defaults" : "policy \"" + p.name() + "\"";
        if (chosen) {
          // A body field is whatever the client writes: no keys file can vouch for it.
          warnings.add(subject + " identifies clients by " + spec + ", a value clients choose, and no ip"
              + " limit covers " + String.join(", ", p.paths())
              + ": any invented value gets fresh buckets; add an ip limit on the same route");
          continue;
        }
        String fix = spec.kind() == IdentityKind.API_KEY
            ? "add clients.api_key.keys_file or an ip limit on the same route"
            : "add clients.session.keys_file or an ip limit on the same route";
        warnings.add(subject + " identifies clients by " + spec.kind().configName()
            + " without a keys_file and no ip limit covers " + String.join(", ", p.paths())
            + ": any invented value gets fresh buckets; " + fix);
      }
    }
    return warnings;
  }

  /** Whether {@code p}'s requests are always also counted per client address. */
  private static boolean hasIpLimit(Policy p, PolicySet set) {
    if (p.by().get(0).kind() == IdentityKind.IP) {
      return true;
    }
    for (Policy other : set.policies()) {
      if (other == p || other.by().get(0).kind() != IdentityKind.IP) {
        continue;
      }
      boolean methodsCovered = other.methods().isEmpty()
          || (!p.methods().isEmpty() && other.methods().containsAll(p.methods()));
      if (methodsCovered && p.paths().stream().allMatch(path -> covers(other, path))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code other} matches every path {@code pattern} can match: the same pattern, or one of
   * {@code other}'s patterns matches {@code pattern} read as a literal path (so {@code /api/**}
   * covers {@code /api/search/**}, and {@code /api/*} covers {@code /api/*}, but a literal
   * {@code /api/x} does not cover {@code /api/*}).
   */
  private static boolean covers(Policy other, String pattern) {
    for (String candidate : other.paths()) {
      if (candidate.equals(pattern)) {
        return true;
      }
      boolean wildcardCandidate = candidate.contains("*");
      // A literal "**" segment in the pattern stands for any depth: only a "**" candidate covers it.
      boolean depthCovered = !pattern.endsWith("/**") || candidate.endsWith("/**");
      if (wildcardCandidate && depthCovered && PathPattern.compile(candidate).matches(pattern)) {
        return true;
      }
    }
    return false;
  }
}
