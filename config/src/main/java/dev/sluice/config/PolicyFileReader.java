package dev.sluice.config;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.identity.Cidr;
import dev.sluice.identity.CidrSet;
import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.identity.IpHeader;
import dev.sluice.limit.Limit;
import dev.sluice.limit.LimitParser;
import dev.sluice.limit.LimitSyntaxException;
import dev.sluice.match.EncodedSlashes;
import dev.sluice.match.PathPattern;
import dev.sluice.policy.Mode;
import dev.sluice.policy.Penalty;
import dev.sluice.policy.Priority;
import dev.sluice.policy.StatusRange;
import dev.sluice.policy.OnError;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicyConfigException;
import dev.sluice.policy.PolicySet;
import java.io.StringReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads one policy file: composes the YAML node tree (keeping positions), walks it section by
 * section, and feeds the core builders. One instance per read; not thread-safe.
 *
 * <p>Why by hand rather than data binding: binding loses positions and silently accepts unknown
 * keys. Walking the node tree lets every value be typed and every error point at its node.
 */
final class PolicyFileReader {
  private static final List<String> TOP_LEVEL = List.of(
      "version", "gateway", "clients", "store", "headers", "audit_log", "access_log", "exempt", "block", "defaults",
      "policies", "decision");
  private static final List<String> GATEWAY =
      List.of("listen", "upstream", "admin", "upstream_timeout", "max_inflight", "admin_token_env",
          "encoded_slashes", "header_timeout", "body_timeout", "max_connections", "max_connections_per_ip",
          "proxy_protocol",
          "admin_insecure", "admin_hosts", "drain_grace", "shutdown_timeout", "tls", "upstream_tls");
  private static final List<String> CLIENTS =
      List.of("trusted_proxies", "ip_header", "ipv6_prefix", "api_key", "user", "session");
  private static final List<String> API_KEY = List.of("header", "query", "keys_file");
  private static final List<String> USER = List.of("jwt");
  private static final List<String> JWT = List.of("header", "claim", "hs256_secret_env", "jwks_file");
  private static final List<String> SESSION = List.of("cookie", "keys_file");
  private static final List<String> STORE =
      List.of("type", "url", "on_error", "timeout", "max_keys", "snapshot", "password_env", "tls");
  private static final List<String> EXEMPT = List.of("ips", "api_keys");
  private static final List<String> BLOCK = List.of("ips", "api_keys");
  private static final List<String> DEFAULTS = List.of("by", "limits");
  private static final List<String> POLICY = List.of("name", "match", "by", "limits", "algorithm", "cost",
      "mode", "on_error", "count", "penalty", "concurrency", "priority", "rollout");
  private static final List<String> COUNT = List.of("status");
  private static final List<String> PENALTY = List.of("ban", "escalate", "max", "scope");
  /** {@code penalty.max} when not given (and the ban is shorter). */
  static final Duration DEFAULT_MAX_BAN = Duration.ofHours(24);
  /** Upper bound of {@code concurrency} and {@code gateway.max_inflight}: beyond it is a typo. */
  static final long MAX_CONCURRENCY = 1_000_000;
  /** Shortest admin token accepted: a guessable token is worse than none, it looks safe. */
  static final int MIN_ADMIN_TOKEN = 16;
  private static final List<String> MATCH = List.of("methods", "paths");

  private static final Map<String, IpHeader> IP_HEADERS = byName(IpHeader.values(), IpHeader::configName);
  private static final Map<String, StoreType> STORE_TYPES = byName(StoreType.values(), StoreType::configName);
  private static final Map<String, OnError> ON_ERRORS = byName(OnError.values(), OnError::configName);
  private static final Map<String, HeaderStyle> HEADER_STYLES = byName(HeaderStyle.values(), HeaderStyle::configName);
  private static final Map<String, Algorithm> ALGORITHMS = byName(Algorithm.values(), Algorithm::configName);
  private static final Map<String, Mode> MODES = byName(Mode.values(), Mode::configName);
  private static final Map<String, Priority> PRIORITIES = byName(Priority.values(), Priority::configName);
  private static final Map<String, Penalty.Scope> SCOPES = byName(Penalty.Scope.values(), Penalty.Scope::configName);
  private static final Map<String, EncodedSlashes> ENCODED_SLASHES =
      byName(EncodedSlashes.values(), EncodedSlashes::configName);

  private static final IdentitySpec IP = new IdentitySpec(IdentityKind.IP, null);
  /** {@code 2x}: a whole factor of at least 1, written with its x so nobody reads it as minutes. */
  private static final Pattern ESCALATE = Pattern.compile("([0-9]{1,6})[xX]");

  private final String fileName;
  private final Path source;
  private final Path baseDir;
  private final Function<String, String> env;
  private final Walker w;

  // Whether clients configured an API key source (for exempt/block api_keys) and which keys files
  // were given (for warnings); `by` entries are checked against IdentityResolver.supports.
  private boolean apiKeySource;
  private boolean apiKeysChecked;
  private boolean sessionsChecked;
  private final List<Node> identityNodes = new ArrayList<>();
  private final List<IdentitySpec> identitySpecs = new ArrayList<>();
  private final List<String> identityPaths = new ArrayList<>();
  /** {@code gateway.encoded_slashes}, read before the policies (their patterns are checked against it). */
  private EncodedSlashes encodedSlashes = EncodedSlashes.DECODE;
  /** Warnings found while reading sections (trusted proxies), before the policy warnings. */
  private final List<String> sectionWarnings = new ArrayList<>();
  /** An unset ${VAR} without default: an error (serve, reload) or a warning (check). */
  boolean strictEnv = true;
  private EnvSubstitution substitution;

  PolicyFileReader(String fileName, Path source, Path baseDir, Function<String, String> env) {
    this.fileName = fileName;
    this.source = source;
    this.baseDir = baseDir;
    this.env = env;
    this.w = new Walker(fileName);
  }

  SluiceConfig read(String yaml) throws ConfigException {
    Node root = substitute(compose(yaml));
    SluiceConfig config = root == null ? null : walk(root);
    if (w.hasErrors() || config == null) {
      if (!w.hasErrors()) {
        w.errorAtLine(1, 1, Messages.emptyDocument());
      }
      List<ConfigError> sorted = new ArrayList<>(w.errors());
      sorted.sort(Comparator.comparingInt(ConfigError::line).thenComparingInt(ConfigError::column));
      throw new ConfigException(sorted);
    }
    return config;
  }

  /** ${VAR} in scalar values; see {@link EnvSubstitution}. */
  private Node substitute(Node root) {
    substitution = new EnvSubstitution(w, env, strictEnv);
    Node substituted = root == null ? null : substitution.apply(root);
    // A reference that could not be substituted would only add noise about its literal text.
    return w.hasErrors() ? null : substituted;
  }

  /** The file after substitution with secrets masked ({@code check --print-effective}). */
  String effective(String yaml) {
    substitute(compose(yaml));
    return substitution.effective(yaml);
  }

  private Node compose(String yaml) {
    if (yaml.length() > BoundedFiles.MAX_POLICY_BYTES) {
      w.errorAtLine(1, 1, Messages.fileTooLarge(BoundedFiles.size(BoundedFiles.MAX_POLICY_BYTES)));
      return null;
    }
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(true); // duplicates are reported by the walker, with both lines
    // YamlGuard bounds what matters (expanded size, depth, value length) with positions; these
    // SnakeYAML guards stay as a second line above its bounds.
    options.setMaxAliasesForCollections(YamlGuard.MAX_VALUES);
    options.setNestingDepthLimit(YamlGuard.MAX_DEPTH + 16);
    options.setCodePointLimit(BoundedFiles.MAX_POLICY_BYTES + 1);
    try {
      if (!YamlGuard.check(yaml, options, w)) {
        return null;
      }
      return new Yaml(options).compose(new StringReader(yaml));
    } catch (MarkedYAMLException e) {
      Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      String problem = e.getProblem() != null ? e.getProblem().trim() : "malformed YAML";
      if (e.getContext() != null && e.getContextMark() != null && e.getProblemMark() != null) {
        problem = problem + " (" + e.getContext().trim() + " at line " + (e.getContextMark().getLine() + 1)
            + ", column " + (e.getContextMark().getColumn() + 1) + ")";
      }
      w.errorAt(mark, 0, Messages.yamlSyntax(problem));
      return null;
    } catch (YAMLException e) {
      // Reader-level problems (non-printable characters, size limits) carry no line/column mark.
      w.errorAtLine(1, 1, Messages.yamlSyntax(String.valueOf(e.getMessage()).lines().findFirst().orElse("")));
      return null;
    }
  }

  private SluiceConfig walk(Node root) {
    Walker.Fields top = w.fields(root, "", TOP_LEVEL);
    if (top == null) {
      return null;
    }
    if (!top.has("version")) {
      w.error(root, Messages.missing("version", "version: 1"));
    } else {
      Node v = top.get("version");
      if (!(v instanceof ScalarNode s) || !"1".equals(s.getValue().strip())) {
        w.error(v, Messages.badVersion(Walker.describe(v)));
        return null; // another version's file would only produce noise below
      }
    }

    GatewaySettings gateway = gateway(top);
    Optional<DecisionSettings> decision = DecisionSection.read(w, top.get("decision"), gateway,
        gateway != null && gateway.upstream() != null);
    IdentityResolver identity = clients(top.get("clients"));
    StoreSettings store = store(top.get("store"));
    LifecycleSettings lifecycle = LifecycleSection.read(w, top.get("gateway"), top.get("store"), baseDir);
    HeaderStyle headers = top.has("headers") ? w.choice(top.get("headers"), "headers", HEADER_STYLES) : HeaderStyle.IETF;
    Optional<String> auditLog = Optional.empty();
    if (top.has("audit_log")) {
      auditLog = Optional.ofNullable(w.nonBlank(top.get("audit_log"), "audit_log")).map(this::besideFile);
    }
    Optional<String> accessLog = top.has("access_log")
        ? Optional.ofNullable(w.nonBlank(top.get("access_log"), "access_log")).map(this::besideFile) : Optional.empty();

    PolicySet.Builder set = PolicySet.builder();
    if (identity != null) {
      coreRun(root, "clients", () -> set.identity(identity));
    }
    if (store != null) {
      set.onError(store.onError());
    }
    exempt(top.get("exempt"), set);
    block(top.get("block"), set);
    defaults(top.get("defaults"), set);
    policies(top.get("policies"), set);
    if (identity != null) {
      checkIdentitySources(top, identity);
    }

    if (w.hasErrors()) {
      return null;
    }
    PolicySet policies = core(root, "", set::build);
    if (policies == null || gateway == null || store == null || headers == null || lifecycle == null) {
      return null;
    }
    List<String> warnings = new ArrayList<>(substitution.warnings());
    warnings.addAll(sectionWarnings);
    warnings.addAll(Warnings.of(policies, apiKeysChecked, sessionsChecked));
    // A trusted range already flagged as too wide (sectionWarnings) says more than "it contains
    // the listen address" would: one warning per mistake.
    return new SluiceConfig(source, gateway, store, headers, auditLog, policies,
        sectionWarnings.isEmpty() ? ListenTrustWarning.addTo(warnings, gateway, policies.identity()) : warnings,
        lifecycle, accessLog, decision);
  }

  /** A path written in the file, relative to the file's folder like {@code keys_file}; "-" stays. */
  private String besideFile(String path) {
    try {
      return path.equals("-") ? path : baseDir.resolve(path).normalize().toString();
    } catch (InvalidPathException e) {
      return path; // opening it reports the bad name
    }
  }

  /**
   * A {@code by} entry whose source is not configured would silently never identify anyone (the
   * chain would always move on), so it is an error, as are exempt API keys nobody can send.
   */
  private void checkIdentitySources(Walker.Fields top, IdentityResolver identity) {
    for (int i = 0; i < identitySpecs.size(); i++) {
      IdentitySpec spec = identitySpecs.get(i);
      List<IdentitySpec> parts = spec.kind() == IdentityKind.COMPOSITE ? spec.parts() : List.of(spec);
      for (IdentitySpec part : parts) {
        if (identity.supports(part) || assertable(top, part.kind())) {
          continue;
        }
        IdentityKind kind = part.kind();
        String needed = switch (kind) {
          case API_KEY -> "clients.api_key (e.g. api_key: { header: X-API-Key })";
          case USER -> "clients.user.jwt (e.g. user: { jwt: { hs256_secret_env: SLUICE_JWT_SECRET } })";
          case SESSION -> "clients.session (e.g. session: { cookie: session })";
          default -> "clients." + kind.configName();
        };
        w.error(identityNodes.get(i), Messages.identityNotConfigured(identityPaths.get(i), kind.configName(), needed));
        break;
      }
    }
    for (String section : List.of("exempt", "block")) {
      Node parent = top.get(section);
      if (!apiKeySource && parent instanceof MappingNode) {
        Node keys = w.nodeFor(section + ".api_keys", null);
        if (keys instanceof SequenceNode seq && !seq.getValue().isEmpty()) {
          w.error(keys, Messages.identityNotConfigured(section + ".api_keys", "api_key",
              "clients.api_key (e.g. api_key: { header: X-API-Key })"));
        }
      }
    }
  }

  /**
   * With the decision API the application may assert {@code user}, {@code session} and {@code
   * api_key} identities itself (SPEC §8), so those need no source in {@code clients:}.
   */
  private static boolean assertable(Walker.Fields top, IdentityKind kind) {
    return top.has("decision")
        && (kind == IdentityKind.USER || kind == IdentityKind.SESSION || kind == IdentityKind.API_KEY);
  }

  // ---- gateway ----

  private GatewaySettings gateway(Walker.Fields top) {
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
    Walker.Fields f = w.fields(node, "gateway", GATEWAY);
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
      Long n = w.integer(f.get("max_inflight"), "gateway.max_inflight", 1, MAX_CONCURRENCY);
      ok = n != null;
      maxInflight = n == null ? maxInflight : n.intValue();
    }
    Optional<String> adminToken = Optional.empty();
    if (f.has("admin_token_env")) {
      String token = secretFromEnv(f.get("admin_token_env"), "gateway.admin_token_env", "the admin API bearer token");
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
    TlsSettings tls = GatewayTls.read(w, f, baseDir, strictEnv, sectionWarnings);
    if (listen == null || admin == null || timeout == null || (upstream == null && !decision) || !ok || edge == null
        || access == null || tls == null) {
      return null;
    }
    return new GatewaySettings(listen, upstream, admin, timeout, maxInflight, adminToken, encodedSlashes, edge,
        access, tls);
  }

  // ---- clients ----

  private IdentityResolver clients(Node node) {
    IdentityResolver.Builder b = IdentityResolver.builder();
    if (node == null) {
      return b.build();
    }
    Walker.Fields f = w.fields(node, "clients", CLIENTS);
    if (f == null) {
      return null;
    }
    int before = w.errors().size();
    if (f.has("trusted_proxies")) {
      CidrSet proxies = cidrs(f.get("trusted_proxies"), "clients.trusted_proxies");
      if (proxies != null) {
        coreRun(f.get("trusted_proxies"), "clients.trusted_proxies", () -> b.trustedProxies(proxies));
        String header = f.has("ip_header") && f.get("ip_header") instanceof ScalarNode s ? s.getValue() : "x-forwarded-for";
        sectionWarnings.addAll(Warnings.trustedProxies(proxies, header));
      }
    }
    if (f.has("ip_header")) {
      IpHeader h = w.choice(f.get("ip_header"), "clients.ip_header", IP_HEADERS);
      if (h != null) {
        coreRun(f.get("ip_header"), "clients.ip_header", () -> b.ipHeader(h));
      }
    }
    if (f.has("ipv6_prefix")) {
      Long prefix = w.integer(f.get("ipv6_prefix"), "clients.ipv6_prefix", 1, 128);
      if (prefix != null) {
        coreRun(f.get("ipv6_prefix"), "clients.ipv6_prefix", () -> b.ipv6Prefix(prefix.intValue()));
      }
    }
    if (f.has("api_key")) {
      apiKey(f.get("api_key"), b);
    }
    if (f.has("user")) {
      user(f.get("user"), b);
    }
    if (f.has("session")) {
      Walker.Fields s = w.fields(f.get("session"), "clients.session", SESSION);
      if (s != null && !s.has("cookie")) {
        w.error(s.node(), Messages.missing("clients.session.cookie", "cookie: session"));
      }
      if (s != null && s.has("cookie")) {
        String cookie = w.nonBlank(s.get("cookie"), "clients.session.cookie");
        if (cookie != null) {
          coreRun(s.get("cookie"), "clients.session.cookie", () -> b.sessionCookie(cookie));
        }
        if (s.has("keys_file")) {
          List<String> sessions = keysFile(s.get("keys_file"), "clients.session.keys_file", "sessions",
              "one session cookie value a line (raw or lowercase sha256 hex)");
          if (sessions != null) {
            coreRun(s.get("keys_file"), "clients.session.keys_file", () -> b.knownSessions(sessions));
            sessionsChecked = true;
          }
        }
      }
    }
    if (w.errors().size() != before) {
      return null;
    }
    return core(node, "clients", b::build);
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
        coreRun(f.get("header"), "clients.api_key.header", () -> b.apiKeyHeader(header));
      }
    } else if (f.has("query")) {
      String query = w.nonBlank(f.get("query"), "clients.api_key.query");
      if (query != null) {
        coreRun(f.get("query"), "clients.api_key.query", () -> b.apiKeyQuery(query));
      }
    }
    if (f.has("keys_file")) {
      String path = "clients.api_key.keys_file";
      List<String> keys = keysFile(f.get("keys_file"), path, "keys", "one key a line (raw or lowercase sha256 hex)");
      if (keys != null) {
        coreRun(f.get("keys_file"), path, () -> b.knownApiKeys(keys));
        apiKeysChecked = true;
      }
    }
  }

  /** The entries of a keys file (blank and {@code #} lines skipped), or {@code null} (reported). */
  private List<String> keysFile(Node node, String path, String what, String expected) {
    String text = readReferenced(node, path, BoundedFiles.MAX_KEYS_BYTES);
    if (text == null) {
      return null;
    }
    List<String> keys = text.lines().map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    if (keys.isEmpty()) {
      w.error(node, Messages.prefixed(path, "the keys file lists no " + what + "; expected " + expected));
      return null;
    }
    return keys;
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
      String secret = secretFromEnv(envNode, path, "the HS256 secret");
      if (secret != null) {
        byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
        coreRun(envNode, path, () -> b.jwtHs256(header, claim, bytes));
      }
    } else {
      String path = "clients.user.jwt.jwks_file";
      String json = readReferenced(f.get("jwks_file"), path, BoundedFiles.MAX_JWKS_BYTES);
      if (json != null) {
        coreRun(f.get("jwks_file"), path, () -> b.jwtJwks(header, claim, json));
      }
    }
  }

  /**
   * The value of the environment variable named at {@code node}, or {@code null} after reporting a
   * bad name, an unset or an empty variable.
   */
  /** What {@code check} validates in place of a secret whose variable is unset (see {@link #strictEnv}). */
  private static final String CHECK_PLACEHOLDER_SECRET = "sluice-check-placeholder-secret-not-for-serving";

  private String secretFromEnv(Node node, String path, String what) {
    String name = w.nonBlank(node, path);
    if (name == null) {
      return null;
    }
    if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      w.error(node, Messages.badEnvName(path, name));
      return null;
    }
    String secret = env.apply(name);
    if (secret == null && !strictEnv) {
      // sluice check runs where production secrets are not (a CI job): validate the rest, warn.
      // The placeholder is never served: serve loads strictly and fails on the unset variable.
      sectionWarnings.add(Messages.envNotSet(path, name, what) + "; serve fails without it");
      return CHECK_PLACEHOLDER_SECRET;
    }
    if (secret == null) {
      w.error(node, Messages.envNotSet(path, name, what));
    } else if (secret.isEmpty()) {
      w.error(node, Messages.envEmpty(path, name, what));
    } else {
      return secret;
    }
    return null;
  }

  /** Reads a regular file of at most {@code maxBytes} named relative to the policy file's folder. */
  private String readReferenced(Node node, String path, int maxBytes) {
    String name = w.nonBlank(node, path);
    if (name == null) {
      return null;
    }
    Path file;
    try {
      file = baseDir.resolve(name);
    } catch (InvalidPathException e) {
      w.error(node, Messages.cannotReadReferenced(path, name, "not a valid file name"));
      return null;
    }
    try {
      return BoundedFiles.readText(file, maxBytes);
    } catch (BoundedFiles.Unreadable e) {
      String problem = e.getMessage().equals("no such file") ? "no such file (looked for " + file + ")" : e.getMessage();
      w.error(node, Messages.cannotReadReferenced(path, name, problem));
    }
    return null;
  }

  private CidrSet cidrs(Node node, String path) {
    List<Node> items = w.oneOrMany(node, path);
    if (items == null) {
      return null;
    }
    List<Cidr> cidrs = new ArrayList<>();
    boolean ok = true;
    for (int i = 0; i < items.size(); i++) {
      String itemPath = path + "[" + i + "]";
      String text = w.nonBlank(items.get(i), itemPath);
      if (text == null) {
        ok = false;
        continue;
      }
      try {
        cidrs.add(Cidr.parse(text.strip()));
      } catch (IllegalArgumentException e) {
        w.error(items.get(i), Messages.prefixed(itemPath, e.getMessage()));
        ok = false;
      }
    }
    return ok ? CidrSet.of(cidrs) : null;
  }

  // ---- store ----

  private StoreSettings store(Node node) {
    if (node == null) {
      return StoreSettings.defaults();
    }
    Walker.Fields f = w.fields(node, "store", STORE);
    if (f == null) {
      return null;
    }
    int before = w.errors().size();
    StoreType type = f.has("type") ? w.choice(f.get("type"), "store.type", STORE_TYPES) : StoreType.MEMORY;
    OnError onError = f.has("on_error") ? w.choice(f.get("on_error"), "store.on_error", ON_ERRORS) : OnError.ALLOW;
    Duration timeout = f.has("timeout")
        ? w.duration(f.get("timeout"), "store.timeout", StoreSettings.MAX_TIMEOUT) : StoreSettings.DEFAULT_TIMEOUT;
    long maxKeys = StoreSettings.DEFAULT_MAX_KEYS;
    if (f.has("max_keys")) {
      Long n = w.integer(f.get("max_keys"), "store.max_keys", 1, Long.MAX_VALUE);
      maxKeys = n == null ? maxKeys : n;
    }
    List<URI> urls = new ArrayList<>();
    List<Node> urlNodes = new ArrayList<>();
    if (f.has("url")) {
      List<Node> items = w.oneOrMany(f.get("url"), "store.url");
      if (items != null) {
        if (items.isEmpty()) {
          w.error(f.get("url"), Messages.emptyList("store.url", "redis://127.0.0.1:6379"));
        }
        for (int i = 0; i < items.size(); i++) {
          URI uri = w.url(items.get(i), items.size() == 1 ? "store.url" : "store.url[" + i + "]",
              Set.of("redis", "rediss"), "a redis:// or rediss:// URL such as redis://127.0.0.1:6379", true);
          if (uri != null) {
            urls.add(uri);
            urlNodes.add(items.get(i));
          }
        }
      }
    }
    if (type == StoreType.MEMORY && f.has("url")) {
      w.error(f.get("url"), Messages.onlyForRedis("store.url", "memory"));
    }
    if (type == StoreType.REDIS && !f.has("url")) {
      w.error(node, Messages.missing("store.url", "url: redis://127.0.0.1:6379"));
    }
    if (type == StoreType.REDIS && f.has("max_keys")) {
      w.error(f.get("max_keys"), Messages.onlyForMemory("store.max_keys"));
    }
    RedisAccess access = StoreAccessSection.read(w, f, type != StoreType.MEMORY, urls, urlNodes, baseDir,
        strictEnv, sectionWarnings, this::secretFromEnv);
    if (w.errors().size() != before || type == null || onError == null || timeout == null || access == null) {
      return null;
    }
    return new StoreSettings(type, urls, onError, timeout, maxKeys, access);
  }

  // ---- exempt, defaults, policies ----

  private void exempt(Node node, PolicySet.Builder set) {
    if (node == null) {
      return;
    }
    Walker.Fields f = w.fields(node, "exempt", EXEMPT);
    if (f == null) {
      return;
    }
    if (f.has("ips")) {
      CidrSet ips = cidrs(f.get("ips"), "exempt.ips");
      if (ips != null) {
        coreRun(f.get("ips"), "exempt.ips", () -> set.exemptIps(ips));
      }
    }
    if (f.has("api_keys")) {
      List<String> keys = strings(f.get("api_keys"), "exempt.api_keys");
      if (keys != null) {
        coreRun(f.get("api_keys"), "exempt.api_keys", () -> set.exemptApiKeys(keys));
      }
    }
  }

  private void block(Node node, PolicySet.Builder set) {
    if (node == null) {
      return;
    }
    Walker.Fields f = w.fields(node, "block", BLOCK);
    if (f == null) {
      return;
    }
    if (f.has("ips")) {
      CidrSet ips = cidrs(f.get("ips"), "block.ips");
      if (ips != null) {
        coreRun(f.get("ips"), "block.ips", () -> set.blockIps(ips));
      }
    }
    if (f.has("api_keys")) {
      List<String> keys = strings(f.get("api_keys"), "block.api_keys");
      if (keys != null) {
        coreRun(f.get("api_keys"), "block.api_keys", () -> set.blockApiKeys(keys));
      }
    }
  }

  private void defaults(Node node, PolicySet.Builder set) {
    if (node == null) {
      return;
    }
    Walker.Fields f = w.fields(node, "defaults", DEFAULTS);
    if (f == null) {
      return;
    }
    int before = w.errors().size();
    List<IdentitySpec> by = f.has("by") ? identities(f.get("by"), "defaults.by") : List.of(IP);
    List<Limit> limits = null;
    if (!f.has("limits")) {
      w.error(node, Messages.missing("defaults.limits", "limits: [\"100/minute\"]"));
    } else {
      limits = limits(f.get("limits"), "defaults.limits");
    }
    if (w.errors().size() == before && by != null && limits != null) {
      List<Limit> l = limits;
      coreRun(node, "defaults", () -> set.defaults(by, l));
    }
  }

  private void policies(Node node, PolicySet.Builder set) {
    if (node == null) {
      return;
    }
    List<Node> items = w.sequence(node, "policies");
    if (items == null) {
      return;
    }
    for (int i = 0; i < items.size(); i++) {
      Policy p = policy(items.get(i), "policies[" + i + "]");
      if (p != null) {
        set.policy(p);
      }
    }
  }

  private Policy policy(Node node, String path) {
    Walker.Fields f = w.fields(node, path, POLICY);
    if (f == null) {
      return null;
    }
    int before = w.errors().size();
    String name = null;
    if (!f.has("name")) {
      w.error(node, Messages.missing(path + ".name", "name: login"));
    } else {
      name = w.string(f.get("name"), path + ".name");
    }
    List<String> methods = null;
    List<String> paths = null;
    if (!f.has("match")) {
      w.error(node, Messages.missing(path + ".match.paths", "match: { paths: [\"/api/**\"] }"));
    } else {
      Walker.Fields m = w.fields(f.get("match"), path + ".match", MATCH);
      if (m != null) {
        if (m.has("methods")) {
          methods = strings(m.get("methods"), path + ".match.methods");
        }
        if (!m.has("paths")) {
          w.error(m.node(), Messages.missing(path + ".match.paths", "paths: [\"/api/**\"]"));
        } else {
          paths = pathPatterns(m.get("paths"), path + ".match.paths");
        }
      }
    }
    List<IdentitySpec> by = f.has("by") ? identities(f.get("by"), path + ".by") : null;
    List<Limit> limits = null;
    if (!f.has("limits")) {
      w.error(node, Messages.missing(path + ".limits", "limits: [\"100/minute\"]"));
    } else {
      limits = limits(f.get("limits"), path + ".limits");
    }
    Algorithm algorithm = f.has("algorithm") ? w.choice(f.get("algorithm"), path + ".algorithm", ALGORITHMS) : null;
    Long cost = f.has("cost") ? w.integer(f.get("cost"), path + ".cost", 1, Long.MAX_VALUE) : null;
    Mode mode = f.has("mode") ? w.choice(f.get("mode"), path + ".mode", MODES) : null;
    OnError onError = f.has("on_error") ? w.choice(f.get("on_error"), path + ".on_error", ON_ERRORS) : null;
    List<StatusRange> count = f.has("count") ? count(f.get("count"), path + ".count") : null;
    Penalty penalty = f.has("penalty") ? penalty(f.get("penalty"), path + ".penalty") : null;
    Long concurrency = f.has("concurrency")
        ? w.integer(f.get("concurrency"), path + ".concurrency", 1, MAX_CONCURRENCY) : null;
    Priority priority = f.has("priority") ? w.choice(f.get("priority"), path + ".priority", PRIORITIES) : null;
    Integer rollout = f.has("rollout") ? rollout(f.get("rollout"), path + ".rollout") : null;
    if (w.errors().size() != before) {
      return null;
    }
    String n = name;
    List<String> ms = methods;
    List<String> ps = paths;
    List<Limit> ls = limits;
    // The builder reports paths relative to the policy; place them under policies[i].
    return core(node, path, () -> {
      Policy.Builder b = Policy.builder(n);
      if (ms != null) {
        b.methods(ms);
      }
      b.paths(ps);
      if (by != null) {
        b.by(by);
      }
      b.limits(ls);
      if (algorithm != null) {
        b.algorithm(algorithm);
      }
      if (cost != null) {
        b.cost(cost);
      }
      if (mode != null) {
        b.mode(mode);
      }
      if (onError != null) {
        b.onError(onError);
      }
      if (count != null) {
        b.count(count);
      }
      if (penalty != null) {
        b.penalty(penalty);
      }
      if (concurrency != null) {
        b.concurrency(concurrency.intValue());
      }
      if (priority != null) {
        b.priority(priority);
      }
      if (rollout != null) {
        b.rollout(rollout);
      }
      return b.build();
    });
  }

  /** {@code rollout: 10%}: basis points, or null after reporting a bad share. */
  private Integer rollout(Node node, String path) {
    String text = w.nonBlank(node, path);
    if (text == null) {
      return null;
    }
    int share = RolloutShare.parse(text);
    if (share < 0) {
      w.error(node, Messages.badRollout(path, text));
      return null;
    }
    return share;
  }

  /** {@code count: { status: [401, 403, "4xx"] }}. */
  private List<StatusRange> count(Node node, String path) {
    Walker.Fields f = w.fields(node, path, COUNT);
    if (f == null) {
      return null;
    }
    if (!f.has("status")) {
      w.error(node, Messages.missing(path + ".status", "status: [401, 403]"));
      return null;
    }
    String listPath = path + ".status";
    List<Node> items = w.oneOrMany(f.get("status"), listPath);
    if (items == null) {
      return null;
    }
    if (items.isEmpty()) {
      w.error(f.get("status"), Messages.emptyList(listPath, "[401, 403] or [4xx]"));
      return null;
    }
    List<StatusRange> out = new ArrayList<>();
    Map<StatusRange, Node> seen = new HashMap<>();
    boolean ok = true;
    for (int i = 0; i < items.size(); i++) {
      String itemPath = listPath + "[" + i + "]";
      String text = w.string(items.get(i), itemPath);
      if (text == null) {
        ok = false;
        continue;
      }
      try {
        StatusRange range = StatusRange.parse(text.strip());
        if (seen.containsKey(range)) {
          w.error(items.get(i), Messages.duplicateEntry(itemPath, text, seen.get(range).getStartMark().getLine() + 1));
          ok = false;
        } else {
          seen.put(range, items.get(i));
          out.add(range);
        }
      } catch (IllegalArgumentException e) {
        w.error(items.get(i), Messages.prefixed(itemPath, e.getMessage()));
        ok = false;
      }
    }
    return ok ? out : null;
  }

  /** {@code penalty: { ban: 15m, escalate: 2x, max: 24h, scope: policy }}; only {@code ban} is required. */
  private Penalty penalty(Node node, String path) {
    Walker.Fields f = w.fields(node, path, PENALTY);
    if (f == null) {
      return null;
    }
    int before = w.errors().size();
    Duration ban = null;
    if (!f.has("ban")) {
      w.error(node, Messages.missing(path + ".ban", "ban: 15m"));
    } else {
      ban = w.duration(f.get("ban"), path + ".ban");
    }
    long escalate = 1;
    if (f.has("escalate")) {
      String text = w.string(f.get("escalate"), path + ".escalate");
      Matcher m = text == null ? null : ESCALATE.matcher(text.strip());
      if (m != null && m.matches()) {
        escalate = Long.parseLong(m.group(1));
      } else if (text != null) {
        w.error(f.get("escalate"), Messages.badEscalate(path + ".escalate", text));
      }
    }
    Duration max = f.has("max") ? w.duration(f.get("max"), path + ".max") : null;
    Penalty.Scope scope = f.has("scope") ? w.choice(f.get("scope"), path + ".scope", SCOPES) : Penalty.Scope.POLICY;
    if (w.errors().size() != before) {
      return null;
    }
    Duration b = ban;
    Duration m = max != null ? max : (ban.compareTo(DEFAULT_MAX_BAN) > 0 ? ban : DEFAULT_MAX_BAN);
    try {
      return new Penalty(b, escalate, m, scope);
    } catch (PolicyConfigException e) {
      // The record names its field relative to the policy (penalty.max).
      String full = path.substring(0, path.length() - "penalty".length()) + e.path();
      w.error(w.nodeFor(full, node), Messages.prefixed(full, e.getMessage()));
      return null;
    }
  }

  private List<String> strings(Node node, String path) {
    List<Node> items = w.oneOrMany(node, path);
    if (items == null) {
      return null;
    }
    List<String> out = new ArrayList<>();
    Map<String, Node> seen = new HashMap<>();
    boolean ok = true;
    for (int i = 0; i < items.size(); i++) {
      String s = w.nonBlank(items.get(i), path + "[" + i + "]");
      if (s == null) {
        ok = false;
      } else if (seen.containsKey(s)) {
        w.error(items.get(i), Messages.duplicateEntry(path + "[" + i + "]", s,
            seen.get(s).getStartMark().getLine() + 1));
        ok = false;
      } else {
        seen.put(s, items.get(i));
        out.add(s);
      }
    }
    return ok ? out : null;
  }

  private List<String> pathPatterns(Node node, String path) {
    List<Node> items = w.oneOrMany(node, path);
    if (items == null) {
      return null;
    }
    if (items.isEmpty()) {
      w.error(node, Messages.emptyList(path, "[\"/api/**\"]"));
      return null;
    }
    List<String> out = strings(node, path);
    if (out == null) {
      return null;
    }
    boolean ok = true;
    for (int i = 0; i < out.size(); i++) {
      try {
        if (PathPattern.compile(out.get(i)).hasEncodedSlash() && encodedSlashes != EncodedSlashes.KEEP) {
          w.error(items.get(i), Messages.encodedSlashPattern(path + "[" + i + "]", out.get(i), encodedSlashes.configName()));
          ok = false;
        }
      } catch (IllegalArgumentException e) {
        w.error(items.get(i), Messages.prefixed(path + "[" + i + "]", e.getMessage()));
        ok = false;
      }
    }
    return ok ? out : null;
  }

  private List<IdentitySpec> identities(Node node, String path) {
    List<Node> items = w.oneOrMany(node, path);
    if (items == null) {
      return null;
    }
    List<IdentitySpec> out = new ArrayList<>();
    boolean ok = true;
    for (int i = 0; i < items.size(); i++) {
      String itemPath = items.size() == 1 && items.get(0) == node ? path : path + "[" + i + "]";
      String text = w.nonBlank(items.get(i), itemPath);
      if (text == null) {
        ok = false;
        continue;
      }
      try {
        IdentitySpec spec = IdentitySpec.parse(text);
        out.add(spec);
        identitySpecs.add(spec);
        identityNodes.add(items.get(i));
        identityPaths.add(itemPath);
      } catch (IllegalArgumentException e) {
        w.error(items.get(i), Messages.prefixed(itemPath, e.getMessage()));
        ok = false;
      }
    }
    return ok ? out : null;
  }

  private List<Limit> limits(Node node, String path) {
    List<Node> items = w.oneOrMany(node, path);
    if (items == null) {
      return null;
    }
    if (items.isEmpty()) {
      w.error(node, Messages.emptyList(path, "[\"100/minute\"]"));
      return null;
    }
    List<Limit> out = new ArrayList<>();
    boolean ok = true;
    for (int i = 0; i < items.size(); i++) {
      String itemPath = path + "[" + i + "]";
      String text = w.string(items.get(i), itemPath);
      if (text == null) {
        ok = false;
        continue;
      }
      try {
        out.add(LimitParser.parse(text));
      } catch (LimitSyntaxException e) {
        w.errorInScalar(items.get(i), e.column(), Messages.prefixed(itemPath, e.getMessage()));
        ok = false;
      } catch (IllegalArgumentException e) {
        w.error(items.get(i), Messages.prefixed(itemPath, e.getMessage()));
        ok = false;
      }
    }
    return ok ? out : null;
  }

  // ---- core errors ----

  /**
   * Runs a core builder step, mapping its error to a position: a {@link PolicyConfigException}
   * to the node of its config path (relative paths are placed under {@code base}); any other
   * {@link IllegalArgumentException} to {@code at}.
   *
   * @return the step's result, or {@code null} after reporting its error
   */
  private <T> T core(Node at, String base, Supplier<T> step) {
    try {
      return step.get();
    } catch (PolicyConfigException e) {
      String full = e.path().startsWith("policies[") || e.path().startsWith("defaults")
          || e.path().startsWith("exempt") || e.path().startsWith("block") || e.path().startsWith("clients") || e.path().startsWith("store")
          || base.isEmpty()
          ? e.path()
          : (e.path().isEmpty() ? base : base + "." + e.path());
      w.error(w.nodeFor(full, at), e.getMessage());
      return null;
    } catch (IllegalArgumentException e) {
      w.error(at, base.isEmpty() ? e.getMessage() : Messages.prefixed(base, e.getMessage()));
      return null;
    }
  }

  private void coreRun(Node at, String base, Runnable step) {
    core(at, base, () -> {
      step.run();
      return Boolean.TRUE;
    });
  }

  private static <E> Map<String, E> byName(E[] values, Function<E, String> name) {
    Map<String, E> map = new LinkedHashMap<>();
    for (E e : values) {
      map.put(name.apply(e), e);
    }
    return map;
  }
}
