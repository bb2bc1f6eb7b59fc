package dev.sluice.config;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads the {@code decision:} section ({@link DecisionSettings}): {@code listen} (required in the
 * section) and {@code ticket_lease}. Errors point at the offending node, like every section.
 */
final class DecisionSection {
  static final List<String> FIELDS = List.of("listen", "ticket_lease");

  private DecisionSection() {}

  /**
   * The settings; empty when the file has no {@code decision:} section or after reporting an
   * error (then {@code w} has errors).
   *
   * @param node the section's value, or null when absent
   * @param gateway the gateway's settings (null when invalid or when only the decision API runs
   *     without a {@code gateway:} section), to refuse a listen address the gateway already uses
   * @param gatewayRuns whether the gateway's proxy listener runs ({@code gateway.upstream} set)
   */
  static Optional<DecisionSettings> read(Walker w, Node node, GatewaySettings gateway, boolean gatewayRuns) {
    if (node == null) {
      return Optional.empty();
    }
    Walker.Fields f = w.fields(node, "decision", FIELDS);
    if (f == null) {
      return Optional.empty();
    }
    InetSocketAddress listen = null;
    if (!f.has("listen")) {
      w.error(node, Messages.missing("decision.listen", "listen: 127.0.0.1:8081"));
    } else {
      listen = w.address(f.get("listen"), "decision.listen");
    }
    Duration lease = DecisionSettings.DEFAULT_TICKET_LEASE;
    if (f.has("ticket_lease")) {
      lease = w.duration(f.get("ticket_lease"), "decision.ticket_lease", DecisionSettings.MAX_TICKET_LEASE);
      if (lease != null && lease.compareTo(DecisionSettings.MIN_TICKET_LEASE) < 0) {
        w.error(f.get("ticket_lease"), "decision.ticket_lease: " + dev.sluice.time.DurationText.format(lease)
            + " is too short; expected at least 1s (a ticket must outlive the request it was issued for)");
        lease = null;
      }
    }
    if (listen != null && gateway != null && listen.getPort() != 0) {
      if (gatewayRuns && sameAddress(listen, gateway.listen())) {
        w.error(f.get("listen"), "decision.listen: " + text(listen) + " is also gateway.listen; expected an"
            + " address of its own (e.g. 127.0.0.1:8081)");
        listen = null;
      } else if (sameAddress(listen, gateway.admin())) {
        w.error(f.get("listen"), "decision.listen: " + text(listen) + " is also gateway.admin; expected an"
            + " address of its own (e.g. 127.0.0.1:8081)");
        listen = null;
      }
    }
    if (listen == null || lease == null) {
      return Optional.empty();
    }
    return Optional.of(new DecisionSettings(listen, lease));
  }

  private static boolean sameAddress(InetSocketAddress a, InetSocketAddress b) {
    return a.getPort() == b.getPort() && a.getHostString().equals(b.getHostString());
  }

  private static String text(InetSocketAddress address) {
    return address.getHostString() + ":" + address.getPort();
  }
}
