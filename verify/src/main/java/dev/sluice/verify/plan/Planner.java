package dev.sluice.verify.plan;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.config.SluiceConfig;
import dev.sluice.identity.Cidr;
import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.policy.Mode;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.policy.Rollout;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Derives a verify plan from a loaded policy file ({@link SluiceConfig}, the model {@code sluice
 * check} prints): per enforced policy and limit a {@link Check.Kind#LIMIT} check, per shadow
 * policy a {@link Check.Kind#SHADOW} check, one check per kind of exemption and block.
 *
 * <p>Design. A limit can be proven by traffic only when it is the first to refuse: on the chosen
 * route and with the chosen identities no other limit of the policy, and no other enforced policy
 * whose identity stays the same across the check's requests, may refuse earlier. Identities that
 * the policy must not count by are made fresh on every request, so a deployment that counts by
 * another identity never refuses and the check fails instead of passing by accident.
 */
public final class Planner {
  /** Methods verify sends without {@code --allow-unsafe-methods} (RFC 9110 §9.2.1). */
  static final List<String> SAFE = List.of("GET", "HEAD", "OPTIONS");
  static final String UNMATCHED_PATH = "/sluice-verify/unmatched";

  private final SluiceConfig config;
  private final PolicySet set;
  private final Identities identities;
  private final boolean allowUnsafe;
  private final Set<String> headerNames = new LinkedHashSet<>();
  private final Set<String> producible;

  /** Plan options: {@code only} = a policy name, or {@code null} for all. */
  public record Options(boolean viaTrustedProxy, boolean allowUnsafeMethods, String only, boolean bans) {
    /** Options without the ban check. */
    public Options(boolean viaTrustedProxy, boolean allowUnsafeMethods, String only) {
      this(viaTrustedProxy, allowUnsafeMethods, only, false);
    }
  }

  private Planner(SluiceConfig config, Options options) {
    this.config = config;
    this.set = config.policies();
    this.identities = new Identities(set, options.viaTrustedProxy());
    this.allowUnsafe = options.allowUnsafeMethods();
    for (Policy p : all()) {
      for (IdentitySpec spec : p.by()) {
        for (IdentitySpec part : parts(spec)) {
          if (part.kind() == IdentityKind.HEADER) {
            headerNames.add(part.parameter());
          }
        }
      }
    }
    this.producible = identities.producibleKinds(headerNames);
  }

  /** The plan for {@code config}. */
  public static Plan plan(SluiceConfig config, Options options) {
    Plan plan = new Planner(config, options).build(options.only());
    if (options.only() != null) {
      return plan;
    }
    List<Check> checks = new ArrayList<>(plan.checks());
    if (!options.bans()) {
      checks.add(Check.notProvable("ban", "ban", Check.Kind.BAN, "needs --admin-url (and the admin token, if the"
          + " deployment requires one, from the file's admin_token_env)"));
    } else if (!plan.identities().addressesVary()) {
      checks.add(Check.notProvable("ban", "ban", Check.Kind.BAN, "banning a fresh address needs --via-trusted-proxy"));
    } else {
      checks.add(new Check("ban", "ban", Check.Kind.BAN, new Route("GET", UNMATCHED_PATH),
          new Recipe(Set.of("ip"), Set.of(), null, null), 0, 1, null, null));
    }
    return new Plan(checks, plan.identities());
  }

  private List<Policy> all() {
    List<Policy> all = new ArrayList<>(set.policies());
    set.defaults().ifPresent(all::add);
    return all;
  }

  private Plan build(String only) {
    List<Check> checks = new ArrayList<>();
    for (Policy p : set.policies()) {
      if (only == null || only.equals(p.name())) {
        checks.addAll(policyChecks(p, route(p)));
      }
    }
    set.defaults().ifPresent(d -> {
      if (only == null || only.equals(d.name())) {
        checks.addAll(policyChecks(d, defaultsRoute()));
      }
    });
    if (only == null) {
      checks.addAll(exemptChecks(checks));
      checks.addAll(blockChecks());
    }
    return new Plan(checks, identities);
  }

  // ------------------------------------------------------------------ policies

  private List<Check> policyChecks(Policy p, Route route) {
    List<Check> checks = new ArrayList<>();
    boolean shadow = p.mode() == Mode.SHADOW || p.rollout() == 0;
    if (!shadow && p.rollout() < Rollout.ALL) {
      for (int i = 0; i < p.limits().size(); i++) {
        checks.add(Check.notProvable(p.itemName(i), p.name(), Check.Kind.LIMIT, "rollout " + Rollout.text(p.rollout())
            + ": whether an identity is enforced depends on its hash, so a fresh identity may be in shadow"));
      }
      return checks;
    }
    Optional<String> noRoute = route == null ? Optional.of(routeProblem(p)) : Optional.empty();
    Optional<String> problem = noRoute.or(() -> countProblem(p));
    String constantKind = null;
    if (problem.isEmpty()) {
      Chosen chosen = chooseIdentity(p);
      if (chosen.problem != null) {
        problem = Optional.of(chosen.problem);
      } else {
        constantKind = chosen.kinds;
      }
    }
    if (problem.isPresent()) {
      if (shadow) {
        checks.add(Check.notProvable("shadow " + p.name(), p.name(), Check.Kind.SHADOW, problem.get()));
      } else {
        for (int i = 0; i < p.limits().size(); i++) {
          checks.add(Check.notProvable(p.itemName(i), p.name(), Check.Kind.LIMIT, problem.get()));
        }
      }
      return checks;
    }
    Recipe recipe = recipe(p, constantKind);
    if (shadow) {
      long own = minAdmitted(p, -1);
      Constraint c = constraint(route, recipe, p, true);
      if (c != null && c.admitted <= own) {
        checks.add(Check.notProvable("shadow " + p.name(), p.name(), Check.Kind.SHADOW,
            c.name + " refuses on " + route + " after " + c.admitted + " requests, before shadow policy "
                + p.name() + " would (" + own + ")"));
      } else {
        int n = (int) own + 2;
        checks.add(new Check("shadow " + p.name(), p.name(), Check.Kind.SHADOW, route, recipe, n, n, null, null));
      }
      return checks;
    }
    for (int i = 0; i < p.limits().size(); i++) {
      long admitted = admitted(p, i);
      long others = minAdmitted(p, i);
      if (others < admitted) {
        checks.add(Check.notProvable(p.itemName(i), p.name(), Check.Kind.LIMIT,
            "a tighter limit of the same policy refuses first (after " + others + " requests; this one allows "
                + admitted + "); traffic cannot reach it within the request bound"));
        continue;
      }
      Constraint c = constraint(route, recipe, p, false);
      if (c != null && c.admitted < admitted) {
        checks.add(Check.notProvable(p.itemName(i), p.name(), Check.Kind.LIMIT,
            c.name + " also applies to " + route + " with the same identity and refuses after " + c.admitted
                + " requests, before " + p.itemName(i) + " (" + admitted + ")"));
        continue;
      }
      checks.add(new Check(p.itemName(i), p.name(), Check.Kind.LIMIT, route, recipe, admitted, (int) admitted + 2,
          expected(p, i), null));
    }
    return checks;
  }

  private Optional<String> countProblem(Policy p) {
    if (!p.count().isEmpty()) {
      return Optional.of("count: only upstream statuses " + p.count() + " consume; verify cannot make the app"
          + " answer them");
    }
    return Optional.empty();
  }

  private Expected expected(Policy p, int i) {
    Limit l = p.limits().get(i);
    boolean sliding = p.algorithm() == Algorithm.SLIDING_WINDOW;
    List<Expected.Advertised> advertised = new ArrayList<>();
    for (int j = 0; j < p.limits().size(); j++) {
      Limit lj = p.limits().get(j);
      advertised.add(new Expected.Advertised(p.itemName(j), lj.quantity(), seconds(lj),
          lj.burst() != lj.quantity() ? lj.burst() : 0));
    }
    return new Expected(p.itemName(i), l.text(), l.quantity(), seconds(l), capacity(p, l), p.cost(), sliding,
        advertised, config.headers().configName());
  }

  private static long seconds(Limit l) {
    return (l.periodNanos() + 999_999_999L) / 1_000_000_000L;
  }

  private static long capacity(Policy p, Limit l) {
    return p.algorithm() == Algorithm.SLIDING_WINDOW ? l.quantity() : l.burst();
  }

  private static long admitted(Policy p, int i) {
    return capacity(p, p.limits().get(i)) / p.cost();
  }

  /** The fewest requests any limit of {@code p} other than {@code except} admits. */
  private static long minAdmitted(Policy p, int except) {
    long min = Long.MAX_VALUE;
    for (int j = 0; j < p.limits().size(); j++) {
      if (j != except) {
        min = Math.min(min, admitted(p, j));
      }
    }
    return min;
  }

  // ------------------------------------------------------------------ identities

  private record Chosen(String kinds, String problem) {}

  /** The first entry of {@code p}'s chain verify can make fresh (config names joined with +). */
  private Chosen chooseIdentity(Policy p) {
    List<String> reasons = new ArrayList<>();
    for (IdentitySpec spec : p.by()) {
      if (spec.kind() == IdentityKind.GLOBAL) {
        return new Chosen(null, identities.cannotProduce("global").orElseThrow());
      }
      String problem = null;
      List<String> kinds = new ArrayList<>();
      for (IdentitySpec part : parts(spec)) {
        String kind = name(part);
        kinds.add(kind);
        if (!kind.equals("ip")) {
          Optional<String> cannot = identities.cannotProduce(kind);
          if (cannot.isPresent() && problem == null) {
            problem = cannot.get();
          }
        }
      }
      if (problem == null) {
        return new Chosen(String.join("+", kinds), null);
      }
      if (kinds.stream().anyMatch(k -> k.startsWith("body:")) && kinds.size() == 1) {
        // absent on a request without a body: the chain moves on
        reasons.add(problem);
        continue;
      }
      reasons.add(problem);
    }
    if (p.by().size() > 0 && !reasons.isEmpty() && p.by().stream().allMatch(s -> s.kind() != IdentityKind.IP)
        && p.by().stream().anyMatch(s -> s.readsBody())) {
      return new Chosen(null, String.join("; ", reasons));
    }
    if (!p.penalty().isEmpty() && !identities.addressesVary()) {
      return new Chosen(null, "the policy bans after refusing (penalty) and its requests would be decided by"
          + " this host's own address; pass --via-trusted-proxy");
    }
    return new Chosen("ip", null);
  }

  private Recipe recipe(Policy p, String constantKinds) {
    Set<String> constant = new LinkedHashSet<>(List.of(constantKinds.split("\\+")));
    Set<String> varying = new LinkedHashSet<>(producible);
    varying.removeAll(constant);
    // Entries before the chosen one must stay absent, or the chain would pick them.
    for (IdentitySpec spec : p.by()) {
      String kinds = parts(spec).stream().map(Planner::name).reduce((a, b) -> a + "+" + b).orElse("");
      if (kinds.equals(constantKinds)) {
        break;
      }
      for (IdentitySpec part : parts(spec)) {
        varying.remove(name(part));
      }
    }
    if (!identities.addressesVary()) {
      varying.remove("ip");
    }
    return new Recipe(constant, varying, null, null);
  }

  private record Constraint(String name, long admitted) {}

  /**
   * The enforced policy (other than {@code p}) that applies to {@code route} with an identity that
   * stays the same under {@code recipe} and admits the fewest requests; with {@code
   * includeDefaults}, the defaults too when no enforced policy matches.
   */
  private Constraint constraint(Route route, Recipe recipe, Policy p, boolean includeDefaults) {
    Constraint best = null;
    boolean enforcedMatch = false;
    for (Policy q : set.policies()) {
      if (q == p || !q.matcher().matches(route.method(), route.path())) {
        continue;
      }
      boolean enforced = q.mode() != Mode.SHADOW && q.rollout() > 0;
      if (!enforced) {
        continue;
      }
      enforcedMatch = true;
      if (constantUnder(q, recipe)) {
        long a = minAdmitted(q, -1);
        if (best == null || a < best.admitted) {
          best = new Constraint("policy " + q.name(), a);
        }
      }
    }
    if (includeDefaults && !enforcedMatch && set.defaults().isPresent() && set.defaults().get() != p) {
      Policy d = set.defaults().get();
      if (constantUnder(d, recipe)) {
        long a = minAdmitted(d, -1);
        if (best == null || a < best.admitted) {
          best = new Constraint("the defaults", a);
        }
      }
    }
    return best;
  }

  /** Whether {@code q} sees the same identity on every request of {@code recipe}. */
  private boolean constantUnder(Policy q, Recipe recipe) {
    for (IdentitySpec spec : q.by()) {
      if (spec.kind() == IdentityKind.GLOBAL) {
        return true;
      }
      boolean present = true;
      boolean varies = false;
      for (IdentitySpec part : parts(spec)) {
        String kind = name(part);
        boolean sent = kind.equals("ip") || recipe.constant().contains(kind) || recipe.varying().contains(kind)
            || (kind.equals("api_key") && recipe.fixedApiKey() != null);
        present &= sent;
        varies |= recipe.varying().contains(kind);
      }
      if (present) {
        return !varies;
      }
    }
    return !recipe.varying().contains("ip");
  }

  private static List<IdentitySpec> parts(IdentitySpec spec) {
    return spec.kind() == IdentityKind.COMPOSITE ? spec.parts() : List.of(spec);
  }

  private static String name(IdentitySpec spec) {
    return spec.toString();
  }

  // ------------------------------------------------------------------ routes

  /** A method and concrete path the policy matches, or {@code null}. */
  private Route route(Policy p) {
    String method = method(p);
    if (method == null) {
      return null;
    }
    for (String pattern : p.paths()) {
      for (String candidate : candidates(pattern)) {
        if (p.matcher().matches(method, candidate)) {
          return new Route(method, candidate);
        }
      }
    }
    return null;
  }

  private String routeProblem(Policy p) {
    if (method(p) == null) {
      return "the route takes only " + String.join(", ", p.methods())
          + "; verify sends only safe methods unless --allow-unsafe-methods";
    }
    return "no concrete path could be made from " + p.paths();
  }

  private String method(Policy p) {
    if (p.methods().isEmpty()) {
      return "GET";
    }
    for (String safe : SAFE) {
      if (p.methods().contains(safe)) {
        return safe;
      }
    }
    return allowUnsafe ? p.methods().get(0) : null;
  }

  /** Concrete paths for a pattern: {@code *} = one segment, {@code **} = one segment, then none. */
  static List<String> candidates(String pattern) {
    List<String> out = new ArrayList<>();
    out.add(pattern.replace("**", "sluice-verify").replace("*", "sluice-verify"));
    if (pattern.endsWith("/**")) {
      String base = pattern.substring(0, pattern.length() - 3).replace("*", "sluice-verify");
      out.add(base.isEmpty() ? "/" : base);
    }
    return out;
  }

  private Route defaultsRoute() {
    for (Policy q : set.policies()) {
      if (q.mode() != Mode.SHADOW && q.rollout() > 0 && q.matcher().matches("GET", UNMATCHED_PATH)) {
        return null;
      }
    }
    return new Route("GET", UNMATCHED_PATH);
  }

  // ------------------------------------------------------------------ exempt and block

  private List<Check> exemptChecks(List<Check> planned) {
    List<Check> checks = new ArrayList<>();
    if (!set.exemptIps().isEmpty()) {
      Cidr cidr = set.exemptIps().cidrs().get(0);
      String id = "exempt ips " + cidr;
      if (!identities.addressesVary()) {
        checks.add(Check.notProvable(id, "exempt", Check.Kind.EXEMPT,
            "an exempt address can only be sent through the trusted proxy header (--via-trusted-proxy)"));
      } else {
        Recipe recipe = new Recipe(Set.of(), Set.of(), host(cidr), null);
        checks.add(exemptCheck(id, recipe, planned));
      }
    }
    if (!set.exemptApiKeys().isEmpty()) {
      String id = "exempt api_keys[0]";
      Optional<String> cannot = set.identity().apiKeyHeader().isPresent() || set.identity().apiKeyQuery().isPresent()
          ? Optional.empty() : Optional.of("clients.api_key is not configured");
      if (cannot.isPresent()) {
        checks.add(Check.notProvable(id, "exempt", Check.Kind.EXEMPT, cannot.get()));
      } else {
        String key = set.exemptApiKeys().stream().sorted().findFirst().orElseThrow();
        Recipe recipe = new Recipe(identities.addressesVary() ? Set.of("ip") : Set.of(), Set.of(), null, key);
        checks.add(exemptCheck(id, recipe, planned));
      }
    }
    return checks;
  }

  /** An exemption is proven on the planned route where a non-exempt identity is refused soonest. */
  private Check exemptCheck(String id, Recipe recipe, List<Check> planned) {
    Route best = null;
    long bestAdmitted = Long.MAX_VALUE;
    String bestPolicy = null;
    for (Check c : planned) {
      if (c.kind() != Check.Kind.LIMIT || !c.provable()) {
        continue;
      }
      Constraint k = constraint(c.route(), recipe, null, true);
      if (k != null && k.admitted < bestAdmitted) {
        best = c.route();
        bestAdmitted = k.admitted;
        bestPolicy = k.name;
      }
    }
    if (best == null) {
      return Check.notProvable(id, "exempt", Check.Kind.EXEMPT, "no provable limit to show the exemption against");
    }
    int n = (int) bestAdmitted + 2;
    return new Check(id + " on " + bestPolicy.replace("policy ", ""), "exempt", Check.Kind.EXEMPT, best, recipe, n, n,
        null, null);
  }

  private List<Check> blockChecks() {
    List<Check> checks = new ArrayList<>();
    Route route = new Route("GET", UNMATCHED_PATH);
    if (!set.blockIps().isEmpty()) {
      Cidr cidr = set.blockIps().cidrs().get(0);
      String id = "block ips " + cidr;
      if (!identities.addressesVary()) {
        checks.add(Check.notProvable(id, "block", Check.Kind.BLOCK,
            "a blocked address can only be sent through the trusted proxy header (--via-trusted-proxy)"));
      } else {
        checks.add(new Check(id, "block", Check.Kind.BLOCK, route, new Recipe(Set.of(), Set.of(), host(cidr), null),
            0, 1, null, null));
      }
    }
    if (!set.blockApiKeys().isEmpty()) {
      String id = "block api_keys[0]";
      if (set.identity().apiKeyHeader().isEmpty() && set.identity().apiKeyQuery().isEmpty()) {
        checks.add(Check.notProvable(id, "block", Check.Kind.BLOCK, "clients.api_key is not configured"));
      } else {
        String key = set.blockApiKeys().stream().sorted().findFirst().orElseThrow();
        checks.add(new Check(id, "block", Check.Kind.BLOCK, route,
            new Recipe(identities.addressesVary() ? Set.of("ip") : Set.of(), Set.of(), null, key), 0, 1, null, null));
      }
    }
    return checks;
  }

  /** An address inside {@code cidr} (the second of the range when there is one). */
  private static String host(Cidr cidr) {
    byte[] b = cidr.network().getAddress().clone();
    int hostBits = b.length * 8 - cidr.prefixLength();
    if (hostBits > 1) {
      b[b.length - 1] |= 1;
    }
    try {
      return InetAddress.getByAddress(b).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }
}
