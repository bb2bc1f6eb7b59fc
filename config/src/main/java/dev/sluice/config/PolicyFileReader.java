package dev.sluice.config;

import dev.sluice.identity.IdentityResolver;
import dev.sluice.policy.PolicySet;
import java.io.StringReader;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Reads one policy file: composes the YAML node tree (keeping positions), walks it section by
 * section, and feeds the core builders. One instance per read; not thread-safe.
 *
 * <p>Why by hand rather than data binding: binding loses positions and silently accepts unknown
 * keys. Walking the node tree lets every value be typed and every error point at its node.
 *
 * <p>Each section has its reader ({@link GatewaySection}, {@link DecisionSection}, {@link
 * ClientsSection}, {@link StoreSection}, {@link LifecycleSection}, {@link ExemptBlockSection},
 * {@link PolicySection}); this class composes the document, runs them in order and checks what
 * relates them (every {@code by} identity has a source, see {@link IdentityUses}).
 */
final class PolicyFileReader {
  private static final List<String> TOP_LEVEL = List.of(
      "version", "gateway", "clients", "store", "headers", "audit_log", "access_log", "exempt", "block", "defaults",
      "policies", "decision");
  private static final Map<String, HeaderStyle> HEADER_STYLES =
      Walker.byName(HeaderStyle.values(), HeaderStyle::configName);

  private final String fileName;
  private final Path source;
  private final Path baseDir;
  private final Function<String, String> env;
  private final Walker w;

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

    EnvSecrets secrets = new EnvSecrets(w, env, strictEnv, sectionWarnings);
    GatewaySection gatewaySection = new GatewaySection(w, secrets, baseDir, strictEnv, sectionWarnings);
    GatewaySettings gateway = gatewaySection.read(top);
    Optional<DecisionSettings> decision = DecisionSection.read(w, top.get("decision"), gateway,
        gateway != null && gateway.upstream() != null);
    ClientsSection clients = new ClientsSection(w, secrets, new ReferencedFiles(w, baseDir), sectionWarnings);
    IdentityResolver identity = clients.read(top.get("clients"));
    StoreSettings store = StoreSection.read(w, top.get("store"), baseDir, strictEnv, sectionWarnings, secrets);
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
      CoreSteps.run(w, root, "clients", () -> set.identity(identity));
    }
    if (store != null) {
      set.onError(store.onError());
    }
    ExemptBlockSection.exempt(w, top.get("exempt"), set);
    ExemptBlockSection.block(w, top.get("block"), set);
    IdentityUses identities = new IdentityUses(w);
    PolicySection policySection = new PolicySection(w, identities, gatewaySection.encodedSlashes());
    policySection.defaults(top.get("defaults"), set);
    policySection.policies(top.get("policies"), set);
    if (identity != null) {
      identities.check(top, identity, clients.apiKeySource());
    }

    if (w.hasErrors()) {
      return null;
    }
    PolicySet policies = CoreSteps.get(w, root, "", set::build);
    if (policies == null || gateway == null || store == null || headers == null || lifecycle == null) {
      return null;
    }
    List<String> warnings = new ArrayList<>(substitution.warnings());
    warnings.addAll(sectionWarnings);
    warnings.addAll(Warnings.of(policies, clients.apiKeysChecked(), clients.sessionsChecked()));
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
}
