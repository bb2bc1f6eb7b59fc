package dev.sluice.config;

import dev.sluice.identity.Cidr;
import dev.sluice.identity.CidrSet;
import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.match.PathPattern;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import java.net.Inet4Address;
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

  /** IPv4 ranges wider than this prefix (more than 16.7 million addresses) are "everyone". */
  static final int WIDEST_TRUSTED_IPV4_PREFIX = 8;
  /** IPv6 likewise; fc00::/7 (every unique local address) is the widest private range. */
  static final int WIDEST_TRUSTED_IPV6_PREFIX = 7;

  /**
   * A trusted proxy range so wide that it holds clients, not proxies ({@code 0.0.0.0/0}, {@code
   * ::/0}, any IPv4 range wider than /8 or IPv6 range wider than /7): every client in it may write
   * its own {@code ip_header} and so choose its address, which undoes ip limits, bans and exempt
   * addresses.
   */
  static List<String> trustedProxies(CidrSet proxies, String ipHeader) {
    List<String> warnings = new ArrayList<>();
    for (Cidr cidr : proxies.cidrs()) {
      boolean v4 = cidr.network() instanceof Inet4Address;
      int widest = v4 ? WIDEST_TRUSTED_IPV4_PREFIX : WIDEST_TRUSTED_IPV6_PREFIX;
      if (cidr.prefixLength() >= widest) {
        continue;
      }
      String who = cidr.prefixLength() == 0 ? "every " + (v4 ? "IPv4" : "IPv6") + " address" : "2^"
          + ((v4 ? 32 : 128) - cidr.prefixLength()) + " addresses";
      warnings.add("clients.trusted_proxies lists " + cidr + ", which covers " + who
          + ": any client in it is trusted to report the client address, so it can send its own "
          + ipHeader + " and choose its identity, escaping ip limits and bans and claiming exempt"
          + " addresses; list only your proxies' addresses (e.g. 10.0.0.5/32 or 10.0.0.0/8)");
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
