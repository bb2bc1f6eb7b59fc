package dev.sluice.config;

import java.time.Duration;
import java.util.Map;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads the slow-client, connection-cap and {@code proxy_protocol} fields of {@code gateway:} into {@link EdgeSettings}
 * (for {@link GatewaySection}, which reads the rest of {@code gateway:}).
 */
final class GatewayEdge {
  private GatewayEdge() {}

  /** The edge settings, defaults for fields not written; {@code null} after reporting an error. */
  static EdgeSettings read(Walker w, Walker.Fields f) {
    int before = w.errors().size();
    Duration header = f.has("header_timeout")
        ? w.duration(f.get("header_timeout"), "gateway.header_timeout", EdgeSettings.MAX_TIMEOUT)
        : EdgeSettings.DEFAULT_HEADER_TIMEOUT;
    Duration body = f.has("body_timeout")
        ? w.duration(f.get("body_timeout"), "gateway.body_timeout", EdgeSettings.MAX_TIMEOUT)
        : EdgeSettings.DEFAULT_BODY_TIMEOUT;
    Long total = f.has("max_connections")
        ? w.integer(f.get("max_connections"), "gateway.max_connections", 1, EdgeSettings.MAX_CONNECTIONS)
        : Long.valueOf(EdgeSettings.DEFAULT_MAX_CONNECTIONS);
    Long perIp = null;
    if (f.has("max_connections_per_ip")) {
      perIp = w.integer(f.get("max_connections_per_ip"), "gateway.max_connections_per_ip", 1,
          total == null ? EdgeSettings.MAX_CONNECTIONS : total);
    } else if (total != null) {
      perIp = (long) Math.min(EdgeSettings.DEFAULT_MAX_CONNECTIONS_PER_IP, total);
    }
    Boolean proxyProtocol = f.has("proxy_protocol")
        ? w.choice(f.get("proxy_protocol"), "gateway.proxy_protocol", Map.of("true", true, "false", false))
        : Boolean.FALSE;
    if (w.errors().size() != before || proxyProtocol == null || header == null || body == null || total == null || perIp == null) {
      return null;
    }
    try {
      return new EdgeSettings(header, body, total.intValue(), perIp.intValue(), proxyProtocol, java.util.List.of());
    } catch (IllegalArgumentException e) {
      Node at = f.has("max_connections_per_ip") ? f.get("max_connections_per_ip") : f.node();
      w.error(at, Messages.prefixed("gateway", e.getMessage()));
      return null;
    }
  }

  /**
   * Reads {@code gateway.upstream}: one URL or a list of them (no duplicates, not empty); {@code
   * null} after reporting an error.
   */
  static java.util.List<java.net.URI> upstreams(Walker w, Node node) {
    java.util.Set<String> schemes = java.util.Set.of("http", "https");
    String expected = "an http:// or https:// URL such as http://127.0.0.1:5000";
    if (!(node instanceof org.yaml.snakeyaml.nodes.SequenceNode)) {
      java.net.URI one = w.url(node, "gateway.upstream", schemes, expected, true);
      return one == null ? null : java.util.List.of(one);
    }
    java.util.List<Node> items = w.sequence(node, "gateway.upstream");
    if (items == null) {
      return null;
    }
    if (items.isEmpty()) {
      w.error(node, "gateway.upstream: the list is empty; expected one URL or a list of URLs such as"
          + " [http://10.0.0.5:5000, http://10.0.0.6:5000]");
      return null;
    }
    java.util.List<java.net.URI> all = new java.util.ArrayList<>();
    boolean ok = true;
    for (Node item : items) {
      java.net.URI uri = w.url(item, "gateway.upstream", schemes, expected, true);
      if (uri == null) {
        ok = false;
      } else if (all.contains(uri)) {
        w.error(item, "gateway.upstream: " + uri + " is listed twice; expected each upstream once");
        ok = false;
      } else {
        all.add(uri);
      }
    }
    return ok ? java.util.List.copyOf(all) : null;
  }
}
