package dev.sluice.config;

import java.time.Duration;
import java.util.Map;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads the slow-client, connection-cap and {@code proxy_protocol} fields of {@code gateway:} into {@link EdgeSettings}
 * (kept out of {@link PolicyFileReader}, which holds every other section).
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
      return new EdgeSettings(header, body, total.intValue(), perIp.intValue(), proxyProtocol);
    } catch (IllegalArgumentException e) {
      Node at = f.has("max_connections_per_ip") ? f.get("max_connections_per_ip") : f.node();
      w.error(at, Messages.prefixed("gateway", e.getMessage()));
      return null;
    }
  }
}
