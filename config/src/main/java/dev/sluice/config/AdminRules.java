package dev.sluice.config;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Node;

/**
 * The admin listener's access rules in the {@code gateway:} section: {@code admin_hosts},
 * {@code admin_insecure}, and what an admin API without a token means.
 *
 * <p>An admin listener without a token is an error beyond loopback (anyone who reaches the
 * address could create and lift bans) unless {@code admin_insecure: true} is written, and a
 * warning otherwise ({@link GatewaySettings#adminWarnings()}, which {@code check} and {@code serve}
 * print on stderr). The decision uses whether {@code admin_token_env} is <em>written</em>, not whether the
 * variable is set, so {@code check} judges a file the same way without the secret.
 */
final class AdminRules {
  /** A host name as written in {@code admin_hosts}, optionally with {@code :port}. */
  private static final Pattern HOST = Pattern.compile(
      "[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\\.?(:[0-9]{1,5})?");

  private AdminRules() {}

  /** {@code admin_hosts} and {@code admin_insecure}; null (reported) when one is invalid. */
  static AdminAccess read(Walker w, Walker.Fields f) {
    boolean ok = true;
    boolean insecure = false;
    if (f.has("admin_insecure")) {
      Boolean b = w.choice(f.get("admin_insecure"), "gateway.admin_insecure", Map.of("true", true, "false", false));
      ok = b != null;
      insecure = b != null && b;
    }
    List<String> hosts = new ArrayList<>();
    if (f.has("admin_hosts")) {
      List<Node> items = w.sequence(f.get("admin_hosts"), "gateway.admin_hosts");
      ok &= items != null;
      Map<String, Integer> seen = new HashMap<>();
      for (int i = 0; items != null && i < items.size(); i++) {
        String path = "gateway.admin_hosts[" + i + "]";
        String name = w.nonBlank(items.get(i), path);
        if (name == null) {
          ok = false;
          continue;
        }
        String lower = name.strip().toLowerCase(Locale.ROOT);
        int colon = lower.lastIndexOf(':');
        boolean portOk = colon < 0 || Integer.parseInt(lower.substring(colon + 1)) <= 65535;
        if (!HOST.matcher(lower).matches() || !portOk) {
          w.error(items.get(i), Messages.badAdminHost(path, name));
          ok = false;
        } else if (seen.containsKey(lower)) {
          w.error(items.get(i), Messages.duplicateEntry(path, name, seen.get(lower)));
          ok = false;
        } else {
          seen.put(lower, items.get(i).getStartMark().getLine() + 1);
          hosts.add(lower);
        }
      }
    }
    return ok ? new AdminAccess(insecure, hosts, f.has("admin_token_env")) : null;
  }

  /**
   * Refuses an admin listener beyond loopback without a token unless {@code admin_insecure: true};
   * the error is placed on {@code gateway.admin}.
   */
  static void check(Walker w, Walker.Fields f, InetSocketAddress admin, AdminAccess access) {
    if (admin == null || access == null || access.tokenWritten() || access.insecure() || isLoopback(admin)) {
      return;
    }
    w.error(f.get("admin"), Messages.adminWithoutToken(text(admin)));
  }

  /** The loud warnings about an admin API without a token (none when a token is named). */
  static List<String> warnings(GatewaySettings gateway) {
    if (gateway.adminToken().isPresent() || gateway.adminAccess().tokenWritten()) {
      return List.of();
    }
    String address = text(gateway.admin());
    if (isLoopback(gateway.admin())) {
      return List.of("the admin API on " + address + " has no token (gateway.admin_token_env is not set):"
          + " any process on this host can create and lift bans and read /metrics;"
          + " set gateway.admin_token_env to require Authorization: Bearer <token>");
    }
    return List.of("gateway.admin_insecure is true: the admin API on " + address + " listens beyond loopback"
        + " WITHOUT A TOKEN: anyone who can reach that address can create and lift bans and read /metrics;"
        + " set gateway.admin_token_env, or bind gateway.admin to 127.0.0.1");
  }

  /** Whether the admin listener accepts connections only from this host. */
  static boolean isLoopback(InetSocketAddress address) {
    return address.getAddress() != null && address.getAddress().isLoopbackAddress();
  }

  private static String text(InetSocketAddress address) {
    String host = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
  }
}
