package dev.sluice.config;

import dev.sluice.identity.CidrSet;
import dev.sluice.policy.PolicySet;
import java.util.List;
import java.util.function.Consumer;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads {@code exempt:} (never limited) and {@code block:} (always refused): the same two lists,
 * {@code ips} and {@code api_keys}, fed to the matching {@link PolicySet.Builder} setters.
 */
final class ExemptBlockSection {
  static final List<String> FIELDS = List.of("ips", "api_keys");

  private ExemptBlockSection() {}

  static void exempt(Walker w, Node node, PolicySet.Builder set) {
    read(w, node, "exempt", set::exemptIps, set::exemptApiKeys);
  }

  static void block(Walker w, Node node, PolicySet.Builder set) {
    read(w, node, "block", set::blockIps, set::blockApiKeys);
  }

  private static void read(Walker w, Node node, String section, Consumer<CidrSet> ipsTo,
      Consumer<List<String>> apiKeysTo) {
    if (node == null) {
      return;
    }
    Walker.Fields f = w.fields(node, section, FIELDS);
    if (f == null) {
      return;
    }
    if (f.has("ips")) {
      CidrSet ips = ListValues.cidrs(w, f.get("ips"), section + ".ips");
      if (ips != null) {
        CoreSteps.run(w, f.get("ips"), section + ".ips", () -> ipsTo.accept(ips));
      }
    }
    if (f.has("api_keys")) {
      List<String> keys = ListValues.strings(w, f.get("api_keys"), section + ".api_keys");
      if (keys != null) {
        CoreSteps.run(w, f.get("api_keys"), section + ".api_keys", () -> apiKeysTo.accept(keys));
      }
    }
  }
}
