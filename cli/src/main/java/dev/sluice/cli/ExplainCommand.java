package dev.sluice.cli;

import dev.sluice.config.SluiceConfig;
import dev.sluice.engine.Decision;
import dev.sluice.engine.Engine;
import dev.sluice.engine.Outcome;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.identity.Cidr;
import dev.sluice.identity.ClientAddress;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.match.MalformedTargetException;
import dev.sluice.match.PathNormalizer;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.request.RequestView;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.ManualClock;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sluice explain -c FILE METHOD PATH [-H 'Name: value']… [--peer IP] [-d BODY]}: what the
 * policy file does with one request — the client address, which policies match, the identity each
 * one would count the request under (secrets hashed as in the audit log), the limits that apply,
 * whether the defaults apply, exemption and blocks.
 *
 * <p>Design: nothing here re-implements a rule. The request is decided by the real {@link Engine}
 * of the file, on a fresh in-memory store with a manual clock, so matching, the trusted-proxy
 * walk, identity resolution and fallback, exemption, blocks and the defaults rule are exactly the
 * gateway's; this class only reads the resulting {@link Decision} and prints it. Fresh buckets
 * admit any request whose cost fits, so the answer is about which buckets are counted, not about
 * whether a client has used them up. Exit 0, or 2 for a bad file, target, header or address.
 */
@Command(
    name = "explain",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Explain what the policy file does with one request: client address, matching policies,",
      "the identity each would use (secrets hashed), the limits, defaults, exemption and blocks.",
      "Decided by the real engine on fresh buckets; nothing is sent anywhere."
    })
public final class ExplainCommand implements Callable<Integer> {
  /** The default {@code --peer}: a documentation address (RFC 5737), a client talking directly. */
  static final String DEFAULT_PEER = "192.0.2.1";

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE",
      description = "The policy file (YAML, version: 1).")
  Path config;

  @Parameters(index = "0", paramLabel = "METHOD", description = "The request method, e.g. GET.")
  String method;

  @Parameters(index = "1", paramLabel = "PATH", description = "The request target, e.g. '/api/search?q=x'.")
  String target;

  @Option(names = {"-H", "--header"}, paramLabel = "'Name: value'",
      description = "A request header; repeat for several (e.g. -H 'X-API-Key: k' -H 'X-Forwarded-For: 203.0.113.7').")
  List<String> headerLines = new ArrayList<>();

  @Option(names = "--peer", paramLabel = "IP", defaultValue = DEFAULT_PEER,
      description = "The TCP peer the gateway would see (a client, or a proxy in front). Default: ${DEFAULT-VALUE}.")
  String peer;

  @Option(names = {"-d", "--data"}, paramLabel = "BODY",
      description = "The request body, for body:<field> identities (send a Content-Type header with it).")
  String body;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Optional<String> problem = Optional.empty();
    InetAddress peerAddress = null;
    String path = null;
    List<String[]> headers = new ArrayList<>();
    try {
      path = PathNormalizer.normalize(target);
    } catch (MalformedTargetException e) {
      problem = Optional.of("PATH: " + e.getMessage());
    }
    try {
      Cidr cidr = Cidr.parse(peer);
      if (cidr.prefixLength() != cidr.network().getAddress().length * 8 || peer.contains("/")) {
        throw new IllegalArgumentException("\"" + peer + "\" is a network; expected one address");
      }
      peerAddress = cidr.network();
    } catch (IllegalArgumentException e) {
      problem = problem.or(() -> Optional.of("--peer: " + e.getMessage().replace("invalid CIDR ", "")));
    }
    for (String line : headerLines) {
      int colon = line.indexOf(':');
      if (colon <= 0 || line.substring(0, colon).isBlank()) {
        problem = problem.or(() -> Optional.of("-H: \"" + line + "\" is not a header; expected 'Name: value'"));
        continue;
      }
      headers.add(new String[] {line.substring(0, colon).strip(), line.substring(colon + 1).strip()});
    }
    if (problem.isPresent()) {
      err.println("sluice explain: " + problem.get());
      err.flush();
      return CheckCommand.INVALID;
    }
    Optional<SluiceConfig> loaded = PolicyFiles.loadOrReport(config, err);
    if (loaded.isEmpty()) {
      return CheckCommand.INVALID;
    }
    int q = target.indexOf('?');
    Request request = new Request(method.toUpperCase(Locale.ROOT), path, q < 0 ? null : target.substring(q + 1),
        peerAddress, headers, body == null ? null : prefix(body.getBytes(StandardCharsets.UTF_8)));
    out.print(explain(loaded.get().policies(), request));
    out.flush();
    return 0;
  }

  /** The explanation of {@code request} under {@code set}; every line ends with {@code \n}. */
  static String explain(PolicySet set, RequestView request) {
    ManualClock clock = new ManualClock();
    Engine engine = Engine.builder()
        .policies(set)
        .store(new MemoryStore(clock))
        .clock(clock)
        .wallClock(InstantSource.system())
        .build();
    Decision decision = engine.decide(request).toCompletableFuture().join();
    decision.release();

    StringBuilder out = new StringBuilder();
    out.append("request: ").append(request.method()).append(' ').append(request.path());
    if (request.rawQuery() != null) {
      out.append(" (query not matched: ?").append(request.rawQuery()).append(')');
    }
    out.append('\n');
    ClientAddress client = decision.client();
    String peerText = ClientAddress.canonicalText(request.peerAddress());
    boolean trusted = set.identity().isTrustedProxy(request.peerAddress());
    out.append("client: ").append(client.clientText())
        .append(trusted
            ? " (peer " + peerText + " is a trusted proxy: read from the forwarding header)"
            : " (peer " + peerText + " is not a trusted proxy: it is the client; forwarding headers ignored)")
        .append('\n');
    out.append("X-Forwarded-For upstream: ").append(client.forwardedFor()).append('\n');

    if (decision.outcome() == Outcome.FORBIDDEN) {
      out.append("\nblocked: refused with 403 by block: (")
          .append(set.blockIps().contains(client.client()) ? "block.ips contains " + client.clientText()
              : "block.api_keys lists the request's API key")
          .append("), before exemptions and policies\n");
      return out.toString();
    }
    if (decision.outcome() == Outcome.EXEMPT) {
      out.append("\nexempt: never limited (")
          .append(set.exemptIps().contains(client.client()) ? "exempt.ips contains " + client.clientText()
              : "exempt.api_keys lists the request's API key")
          .append("); no policy or defaults apply, counted as exempt\n");
      return out.toString();
    }

    out.append('\n');
    for (Policy p : set.policies()) {
      Optional<PolicyDecision> applied = decision.policies().stream()
          .filter(pd -> pd.policy() == p).findFirst();
      if (applied.isEmpty()) {
        out.append(p.name()).append(": does not match (").append(route(p)).append(")\n");
        continue;
      }
      describe(out, applied.get(), p.name() + ": matches (" + p.mode().configName() + ")");
    }
    Optional<PolicyDecision> defaults = decision.policies().stream()
        .filter(pd -> pd.policy().name().equals(PolicySet.DEFAULTS_NAME)).findFirst();
    if (set.defaults().isEmpty()) {
      out.append("defaults: none configured").append(decision.policies().isEmpty()
          ? " (no policy matches: this request is not limited)\n" : "\n");
    } else if (defaults.isPresent()) {
      describe(out, defaults.get(), "defaults: apply (no policy matches)");
    } else {
      out.append("defaults: do not apply (a policy matches)\n");
    }
    out.append("\nidentity values of api_key, session, header: and body: are hashed as in the audit log\n");
    return out.toString();
  }

  private static void describe(StringBuilder out, PolicyDecision pd, String heading) {
    Policy p = pd.policy();
    out.append(heading).append('\n');
    out.append("  identity: ").append(pd.identity().spec()).append(' ').append(pd.identity().value())
        .append(why(p.by(), pd.identity().spec())).append('\n');
    List<String> limits = new ArrayList<>();
    for (int i = 0; i < p.limits().size(); i++) {
      Limit limit = p.limits().get(i);
      limits.add(limit.text() + " (" + (p.algorithm().configName().equals("gcra") ? "burst " + limit.burst() + ", " : "")
          + p.algorithm().configName() + ", item \"" + p.itemName(i) + "\")");
    }
    out.append("  limits: ").append(String.join(", ", limits)).append("; cost ").append(p.cost()).append('\n');
    List<String> extra = new ArrayList<>();
    if (!p.count().isEmpty()) {
      extra.add("counts only upstream statuses " + p.count().stream().map(Object::toString).collect(Collectors.joining(", ")));
    }
    p.penalty().ifPresent(penalty -> extra.add("penalty " + penalty));
    if (p.concurrency() > 0) {
      extra.add("at most " + p.concurrency() + " in flight per identity");
    }
    if (!extra.isEmpty()) {
      out.append("  also: ").append(String.join("; ", extra)).append('\n');
    }
  }

  /** Why this identity of the {@code by} chain: the first present one, or the ip fallback. */
  private static String why(List<IdentitySpec> by, IdentitySpec chosen) {
    String chain = by.stream().map(IdentitySpec::toString).collect(Collectors.joining(" > "));
    int index = by.indexOf(chosen);
    if (by.size() == 1 && index == 0) {
      return "";
    }
    if (index == 0) {
      return " (first of " + chain + ")";
    }
    if (index > 0) {
      return " (" + by.subList(0, index).stream().map(IdentitySpec::toString).collect(Collectors.joining(", "))
          + " absent or unknown; by " + chain + ")";
    }
    return " (none of " + chain + " present: decided under ip)";
  }

  /** What a gateway buffers of a body: at most {@link RequestView#BODY_PREFIX_LIMIT} bytes. */
  private static byte[] prefix(byte[] body) {
    return body.length <= RequestView.BODY_PREFIX_LIMIT ? body : java.util.Arrays.copyOf(body, RequestView.BODY_PREFIX_LIMIT);
  }

  private static String route(Policy p) {
    return (p.methods().isEmpty() ? "any method" : String.join(",", p.methods())) + " " + String.join(" ", p.paths());
  }

  /** The request as the command line describes it. */
  private record Request(String method, String path, String rawQuery, InetAddress peerAddress,
      List<String[]> fields, byte[] body) implements RequestView {
    @Override
    public List<String> headers(String name) {
      List<String> values = new ArrayList<>();
      for (String[] field : fields) {
        if (field[0].equalsIgnoreCase(name)) {
          values.add(field[1]);
        }
      }
      return values;
    }

    @Override
    public byte[] bodyPrefix() {
      return body;
    }
  }
}
