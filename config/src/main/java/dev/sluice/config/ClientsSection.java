package dev.sluice.config;

import dev.sluice.identity.CidrSet;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IpHeader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Reads the {@code clients:} section into the core's {@link IdentityResolver}: trusted proxies and
 * the client-IP header, and the identity sources ({@code api_key}, {@code user.jwt}, {@code
 * session}) with their keys files. One instance per read; afterwards it tells which sources and
 * keys files were configured, for the checks and warnings that relate other sections to them.
 */
final class ClientsSection {
  static final List<String> FIELDS =
      List.of("trusted_proxies", "ip_header", "ipv6_prefix", "api_key", "user", "session");
  private static final List<String> API_KEY = List.of("header", "query", "keys_file");
  private static final List<String> USER = List.of("jwt");
  private static final List<String> JWT = List.of("header", "claim", "hs256_secret_env", "jwks_file");
  private static final List<String> SESSION = List.of("cookie", "keys_file");
  private static final Map<String, IpHeader> IP_HEADERS = Walker.byName(IpHeader.values(), IpHeader::configName);

  private final Walker w;
  private final EnvSecrets secrets;
  private final ReferencedFiles files;
  private final List<String> warnings;
  // Whether clients configured an API key source (for exempt/block api_keys) and which keys files
  // were given (for warnings).
  private boolean apiKeySource;
  private boolean apiKeysChecked;
  private boolean sessionsChecked;

  /** @param warnings where the section's warnings go (a too-wide trusted range) */
  ClientsSection(Walker w, EnvSecrets secrets, ReferencedFiles files, List<String> warnings) {
    this.w = w;
    this.secrets = secrets;
    this.files = files;
    this.warnings = warnings;
  }

  /** Whether {@code clients.api_key} names a header or a query parameter. */
  boolean apiKeySource() {
    return apiKeySource;
  }

  /** Whether {@code clients.api_key.keys_file} was read. */
  boolean apiKeysChecked() {
    return apiKeysChecked;
  }

  /** Whether {@code clients.session.keys_file} was read. */
  boolean sessionsChecked() {
    return sessionsChecked;
  }

  /** The resolver (the defaults when the section is absent), or null after reporting an error. */
  IdentityResolver read(Node node) {
    IdentityResolver.Builder b = IdentityResolver.builder();
    if (node == null) {
      return b.build();
    }
    Walker.Fields f = w.fields(node, "clients", FIELDS);
    if (f == null) {
      return null;
    }
    int before = w.errors().size();
    if (f.has("trusted_proxies")) {
      CidrSet proxies = ListValues.cidrs(w, f.get("trusted_proxies"), "clients.trusted_proxies");
      if (proxies != null) {
        CoreSteps.run(w, f.get("trusted_proxies"), "clients.trusted_proxies", () -> b.trustedProxies(proxies));
        String header = f.has("ip_header") && f.get("ip_header") instanceof ScalarNode s ? s.getValue() : "x-forwarded-for";
        warnings.addAll(Warnings.trustedProxies(proxies, header));
      }
    }
    if (f.has("ip_header")) {
      IpHeader h = w.choice(f.get("ip_header"), "clients.ip_header", IP_HEADERS);
      if (h != null) {
        CoreSteps.run(w, f.get("ip_header"), "clients.ip_header", () -> b.ipHeader(h));
      }
    }
    if (f.has("ipv6_prefix")) {
      Long prefix = w.integer(f.get("ipv6_prefix"), "clients.ipv6_prefix", 1, 128);
      if (prefix != null) {
        CoreSteps.run(w, f.get("ipv6_prefix"), "clients.ipv6_prefix", () -> b.ipv6Prefix(prefix.intValue()));
      }
    }
    if (f.has("api_key")) {
      apiKey(f.get("api_key"), b);
    }
    if (f.has("user")) {
      user(f.get("user"), b);
    }
    if (f.has("session")) {
      session(f.get("session"), b);
    }
    if (w.errors().size() != before) {
      return null;
    }
    return CoreSteps.get(w, node, "clients", b::build);
  }

  private void apiKey(Node node, IdentityResolver.Builder b) {
    Walker.Fields f = w.fields(node, "clients.api_key", API_KEY);
    if (f == null) {
      return;
    }
    if (f.has("header") == f.has("query")) {
      w.error(node, Messages.exactlyOne("clients.api_key", "header", "query"));
    } else {
      apiKeySource = true;
    }
    if (f.has("header") && f.has("query")) {
      // reported above
    } else if (f.has("header")) {
      String header = w.nonBlank(f.get("header"), "clients.api_key.header");
      if (header != null) {
        CoreSteps.run(w, f.get("header"), "clients.api_key.header", () -> b.apiKeyHeader(header));
      }
    } else if (f.has("query")) {
      String query = w.nonBlank(f.get("query"), "clients.api_key.query");
      if (query != null) {
        CoreSteps.run(w, f.get("query"), "clients.api_key.query", () -> b.apiKeyQuery(query));
      }
    }
    if (f.has("keys_file")) {
      String path = "clients.api_key.keys_file";
      List<String> keys = files.keys(f.get("keys_file"), path, "keys", "one key a line (raw or lowercase sha256 hex)");
      if (keys != null) {
        CoreSteps.run(w, f.get("keys_file"), path, () -> b.knownApiKeys(keys));
        apiKeysChecked = true;
      }
    }
  }

  private void user(Node node, IdentityResolver.Builder b) {
    Walker.Fields u = w.fields(node, "clients.user", USER);
    if (u == null) {
      return;
    }
    if (!u.has("jwt")) {
      w.error(node, Messages.missing("clients.user.jwt", "jwt: { hs256_secret_env: SLUICE_JWT_SECRET }"));
      return;
    }
    Node jwtNode = u.get("jwt");
    Walker.Fields f = w.fields(jwtNode, "clients.user.jwt", JWT);
    if (f == null) {
      return;
    }
    String header = f.has("header") ? w.nonBlank(f.get("header"), "clients.user.jwt.header") : "Authorization";
    String claim = f.has("claim") ? w.nonBlank(f.get("claim"), "clients.user.jwt.claim") : "sub";
    if (f.has("hs256_secret_env") == f.has("jwks_file")) {
      w.error(jwtNode, Messages.exactlyOne("clients.user.jwt", "hs256_secret_env", "jwks_file"));
      return;
    }
    if (header == null || claim == null) {
      return;
    }
    if (f.has("hs256_secret_env")) {
      String path = "clients.user.jwt.hs256_secret_env";
      Node envNode = f.get("hs256_secret_env");
      String secret = secrets.fromEnv(envNode, path, "the HS256 secret");
      if (secret != null) {
        byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
        CoreSteps.run(w, envNode, path, () -> b.jwtHs256(header, claim, bytes));
      }
    } else {
      String path = "clients.user.jwt.jwks_file";
      String json = files.read(f.get("jwks_file"), path, BoundedFiles.MAX_JWKS_BYTES);
      if (json != null) {
        CoreSteps.run(w, f.get("jwks_file"), path, () -> b.jwtJwks(header, claim, json));
      }
    }
  }

  private void session(Node node, IdentityResolver.Builder b) {
    Walker.Fields s = w.fields(node, "clients.session", SESSION);
    if (s != null && !s.has("cookie")) {
      w.error(s.node(), Messages.missing("clients.session.cookie", "cookie: session"));
    }
    if (s != null && s.has("cookie")) {
      String cookie = w.nonBlank(s.get("cookie"), "clients.session.cookie");
      if (cookie != null) {
        CoreSteps.run(w, s.get("cookie"), "clients.session.cookie", () -> b.sessionCookie(cookie));
      }
      if (s.has("keys_file")) {
        List<String> sessions = files.keys(s.get("keys_file"), "clients.session.keys_file", "sessions",
            "one session cookie value a line (raw or lowercase sha256 hex)");
        if (sessions != null) {
          CoreSteps.run(w, s.get("keys_file"), "clients.session.keys_file", () -> b.knownSessions(sessions));
          sessionsChecked = true;
        }
      }
    }
  }
}
