package dev.sluice.config;

import dev.sluice.match.EncodedSlashes;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads the {@code gateway:} section into {@link GatewaySettings}: listeners, upstream, timeouts,
 * the admin token; the edge, admin access and TLS fields through {@link GatewayEdge}, {@link
 * AdminRules} and {@link GatewayTls}. Without the section only the decision API may run.
 * One instance per read.
 */
final class GatewaySection {
  static final List<String> FIELDS =
      List.of("listen", "upstream", "admin", "upstream_timeout", "max_inflight", "admin_token_env",
          "encoded_slashes", "header_timeout", "body_timeout", "max_connections", "max_connections_per_ip",
          "proxy_protocol",
          "admin_insecure", "admin_hosts", "drain_grace", "shutdown_timeout", "tls", "upstream_tls");
  /** Shortest admin token accepted: a guessable token is worse than none, it looks safe. */
  static final int MIN_ADMIN_TOKEN = 16;
  private static final Map<String, EncodedSlashes> ENCODED_SLASHES =
      Walker.byName(EncodedSlashes.values(), EncodedSlashes::configName);

  private final Walker w;
  private final EnvSecrets secrets;
  private final Path baseDir;
  private final boolean strictEnv;
  private final List<String> warnings;
  /** {@code gateway.encoded_slashes}, read before the policies (their patterns are checked against it). */
  private EncodedSlashes encodedSlashes = EncodedSlashes.DECODE;

  /**
   * @param strictEnv whether an absent TLS file is an error ({@code serve}) or a warning ({@code check})
   * @param warnings where the section's warnings go
   */
  GatewaySection(Walker w, EnvSecrets secrets, Path baseDir, boolean strictEnv, List<String> warnings) {
    this.w = w;
    this.secrets = secrets;
    this.baseDir = baseDir;
    this.strictEnv = strictEnv;
    this.warnings = warnings;
  }

  /**
   * {@code gateway.encoded_slashes} once {@link #read} has run; {@code decode} when absent, and the
   * valid value even when another gateway field was bad (so the policies are still checked).
   */
  EncodedSlashes encodedSlashes() {
    return encodedSlashes;
  }

  /** The settings, or null after reporting an error. */
  GatewaySettings read(Walker.Fields top) {
    Node node = top.get("gateway");
    boolean decision = top.has("decision");
    if (node == null) {
      if (decision) {
        // Only the decision API runs: the admin listener and the rest at their defaults.
        return new GatewaySettings(GatewaySettings.DEFAULT_LISTEN, null, GatewaySettings.DEFAULT_ADMIN,
            GatewaySettings.DEFAULT_UPSTREAM_TIMEOUT, GatewaySettings.NO_INFLIGHT_LIMIT, Optional.empty());
      }
      w.error(top.node(), Messages.missing("gateway.upstream or decision.listen",
          "gateway: { upstream: http://127.0.0.1:5000 } or decision: { listen: 127.0.0.1:8081 }"));
      return null;
    }
    Walker.Fields f = w.fields(node, "gateway", FIELDS);
    if (f == null) {
      return null;
    }
    InetSocketAddress listen = f.has("listen") ? w.address(f.get("listen"), "gateway.listen") : GatewaySettings.DEFAULT_LISTEN;
    InetSocketAddress admin = f.has("admin") ? w.address(f.get("admin"), "gateway.admin") : GatewaySettings.DEFAULT_ADMIN;
    Duration timeout = f.has("upstream_timeout")
        ? w.duration(f.get("upstream_timeout"), "gateway.upstream_timeout", GatewaySettings.MAX_UPSTREAM_TIMEOUT)
        : GatewaySettings.DEFAULT_UPSTREAM_TIMEOUT;
    URI upstream = null;
    List<URI> upstreams = null;
    if (!f.has("upstream")) {
      if (!decision) {
        w.error(node, Messages.missing("gateway.upstream", "upstream: http://127.0.0.1:5000"
            + " (or a decision: { listen: 127.0.0.1:8081 } section for the decision API alone)"));
      }
    } else {
      upstreams = GatewayEdge.upstreams(w, f.get("upstream")); // one URL or a list (SPEC §12)
      upstream = upstreams == null ? null : upstreams.get(0);
    }
    int maxInflight = GatewaySettings.NO_INFLIGHT_LIMIT;
    boolean ok = true;
    if (f.has("max_inflight")) {
      Long n = w.integer(f.get("max_inflight"), "gateway.max_inflight", 1, PolicySection.MAX_CONCURRENCY);
      ok = n != null;
      maxInflight = n == null ? maxInflight : n.intValue();
    }
    Optional<String> adminToken = Optional.empty();
    if (f.has("admin_token_env")) {
      String token = secrets.fromEnv(f.get("admin_token_env"), "gateway.admin_token_env", "the admin API bearer token");
      if (token == null) {
        ok = false;
      } else if (token.length() < MIN_ADMIN_TOKEN || !token.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
        w.error(f.get("admin_token_env"), Messages.weakAdminToken(
            "gateway.admin_token_env", w.string(f.get("admin_token_env"), "gateway.admin_token_env"),
            token.length(), MIN_ADMIN_TOKEN));
        ok = false;
      } else {
        adminToken = Optional.of(token);
      }
    }
    if (f.has("encoded_slashes")) {
      EncodedSlashes mode = w.choice(f.get("encoded_slashes"), "gateway.encoded_slashes", ENCODED_SLASHES);
      ok &= mode != null;
      encodedSlashes = mode == null ? encodedSlashes : mode;
    }
    EdgeSettings edge = GatewayEdge.read(w, f);
    if (edge != null && upstreams != null && upstreams.size() > 1) {
      edge = edge.withUpstreams(upstreams);
    }
    AdminAccess access = AdminRules.read(w, f);
    AdminRules.check(w, f, admin, access);
    TlsSettings tls = GatewayTls.read(w, f, baseDir, strictEnv, warnings);
    if (listen == null || admin == null || timeout == null || (upstream == null && !decision) || !ok || edge == null
        || access == null || tls == null) {
      return null;
    }
    return new GatewaySettings(listen, upstream, admin, timeout, maxInflight, adminToken, encodedSlashes, edge,
        access, tls);
  }
}
