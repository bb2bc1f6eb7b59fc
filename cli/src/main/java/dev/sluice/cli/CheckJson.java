package dev.sluice.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.config.ConfigError;
import dev.sluice.config.GatewaySettings;
import dev.sluice.config.SluiceConfig;
import dev.sluice.identity.Cidr;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.policy.StatusRange;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The {@code sluice check --json} document: the same facts as the policy matrix, as one JSON
 * object (format 1, documented in {@code docs/cli.md}).
 *
 * <p>Stability: {@code "format": 1} names this shape. Keys are only ever added within a format;
 * a key is never renamed, removed or given another type without raising {@code format}. Consumers
 * should ignore keys they do not know. Durations are whole milliseconds ({@code *_ms}) or seconds
 * ({@code *_seconds}); absent settings are {@code null}, never omitted.
 */
final class CheckJson {
  /** The version of the document's shape. */
  static final int FORMAT = 1;

  private static final ObjectMapper JSON = new ObjectMapper();

  private CheckJson() {}

  /** The document for a valid file. */
  static String valid(String file, SluiceConfig config) {
    ObjectNode root = header(file, true);
    root.putArray("errors");
    ArrayNode warnings = root.putArray("warnings");
    for (String warning : config.warnings()) {
      warnings.addObject().put("message", warning);
    }
    GatewaySettings g = config.gateway();
    ObjectNode gateway = root.putObject("gateway");
    gateway.put("listen", hostPort(g.listen()));
    if (g.edge() != null && g.edge().upstreams().size() > 1) {
      ArrayNode upstreams = gateway.putArray("upstream"); // a list in the file: the list, in order
      g.edge().upstreams().forEach(u -> upstreams.add(u.toString()));
    } else if (g.upstream() != null) {
      gateway.put("upstream", g.upstream().toString());
    } else {
      gateway.putNull("upstream");
    }
    gateway.put("admin", hostPort(g.admin()));
    gateway.put("upstream_timeout_ms", g.upstreamTimeout().toMillis());
    if (g.limitsInflight()) {
      gateway.put("max_inflight", g.maxInflight());
    } else {
      gateway.putNull("max_inflight");
    }
    gateway.put("admin_token_required", g.adminToken().isPresent());
    // Only with a decision: section, so the document of a gateway-only file is unchanged.
    config.decision().ifPresent(d -> {
      ObjectNode decision = root.putObject("decision");
      decision.put("listen", hostPort(d.listen()));
      decision.put("ticket_lease_ms", d.ticketLease().toMillis());
    });
    ObjectNode store = root.putObject("store");
    store.put("type", config.store().type().configName());
    store.put("on_error", config.store().onError().configName());
    store.put("timeout_ms", config.store().timeout().toMillis());
    root.put("headers", config.headers().configName());
    root.put("audit_log", config.auditLog().orElse(null));

    PolicySet set = config.policies();
    ArrayNode policies = root.putArray("policies");
    for (Policy p : set.policies()) {
      policy(policies.addObject(), p, set);
    }
    if (set.defaults().isPresent()) {
      policy(root.putObject("defaults"), set.defaults().get(), set);
    } else {
      root.putNull("defaults");
    }
    cidrsAndKeys(root.putObject("exempt"), set.exemptIps().cidrs(), set.exemptApiKeys().size());
    cidrsAndKeys(root.putObject("block"), set.blockIps().cidrs(), set.blockApiKeys().size());
    return write(root);
  }

  /** The document for a file that cannot be read or is invalid: only the errors, with positions. */
  static String invalid(String file, List<ConfigError> errors) {
    ObjectNode root = header(file, false);
    ArrayNode list = root.putArray("errors");
    for (ConfigError e : errors) {
      ObjectNode error = list.addObject();
      error.put("file", e.file());
      // 0 marks a whole-file problem (it cannot be read): no position.
      if (e.line() == 0) {
        error.putNull("line");
        error.putNull("column");
      } else {
        error.put("line", e.line());
        error.put("column", e.column());
      }
      error.put("message", e.message());
      error.put("text", e.toString());
    }
    root.putArray("warnings");
    return write(root);
  }

  private static ObjectNode header(String file, boolean valid) {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("file", file);
    root.put("valid", valid);
    return root;
  }

  private static void policy(ObjectNode node, Policy p, PolicySet set) {
    node.put("name", p.name());
    ArrayNode methods = node.putArray("methods");
    p.methods().forEach(methods::add);
    ArrayNode paths = node.putArray("paths");
    if (!p.name().equals(PolicySet.DEFAULTS_NAME)) {
      p.paths().forEach(paths::add);
    }
    ArrayNode by = node.putArray("by");
    for (IdentitySpec spec : p.by()) {
      by.add(spec.toString());
    }
    ArrayNode limits = node.putArray("limits");
    for (int i = 0; i < p.limits().size(); i++) {
      Limit limit = p.limits().get(i);
      ObjectNode l = limits.addObject();
      l.put("text", limit.text());
      l.put("item", p.itemName(i));
      l.put("quantity", limit.quantity());
      l.put("period_seconds", limit.period().toSeconds());
      l.put("burst", limit.burst());
    }
    node.put("algorithm", p.algorithm().configName());
    node.put("cost", p.cost());
    node.put("mode", p.mode().configName());
    node.put("on_error", set.onErrorOf(p).configName());
    node.put("on_error_from_store", p.onError().isEmpty());
    ArrayNode count = node.putArray("count_statuses");
    for (StatusRange range : p.count()) {
      count.add(range.toString());
    }
    if (p.penalty().isPresent()) {
      ObjectNode penalty = node.putObject("penalty");
      penalty.put("ban_seconds", p.penalty().get().ban().toSeconds());
      penalty.put("escalate", p.penalty().get().escalate());
      penalty.put("max_seconds", p.penalty().get().max().toSeconds());
      penalty.put("scope", p.penalty().get().scope().configName());
    } else {
      node.putNull("penalty");
    }
    if (p.concurrency() > 0) {
      node.put("concurrency", p.concurrency());
    } else {
      node.putNull("concurrency");
    }
    node.put("priority", p.priority().configName());
  }

  private static void cidrsAndKeys(ObjectNode node, List<Cidr> cidrs, int keys) {
    ArrayNode ips = node.putArray("ips");
    for (Cidr cidr : cidrs) {
      ips.add(cidr.toString());
    }
    // Keys are secrets: only their number is reported.
    node.put("api_keys", keys);
  }

  private static String write(ObjectNode root) {
    // Two-space indent, "key": value, [] and {} when empty: what people write by hand.
    DefaultPrettyPrinter printer = new DefaultPrettyPrinter(Separators.createDefaultInstance()
            .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
            .withObjectEmptySeparator("")
            .withArrayEmptySeparator(""))
        .withObjectIndenter(new DefaultIndenter("  ", "\n"))
        .withArrayIndenter(new DefaultIndenter("  ", "\n"));
    try {
      return JSON.writer(printer).writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a tree of strings and numbers always serialises", e);
    }
  }

  private static String hostPort(InetSocketAddress a) {
    String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
  }
}
