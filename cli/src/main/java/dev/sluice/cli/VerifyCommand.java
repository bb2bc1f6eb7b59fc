package dev.sluice.cli;

import dev.sluice.config.SluiceConfig;
import dev.sluice.verify.plan.Plan;
import dev.sluice.verify.plan.Planner;
import dev.sluice.verify.report.Report;
import dev.sluice.verify.run.Admin;
import dev.sluice.verify.run.Outcome;
import dev.sluice.verify.run.Runner;
import dev.sluice.verify.run.Target;
import dev.sluice.verify.scenarios.Scenarios;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sluice verify -c FILE --target URL}: proves that a running deployment enforces the
 * file's policy matrix (SPEC §11). The logic lives in the {@code verify} module; this is the
 * command line. Exit 0 when no check failed, 1 when one did (or, with {@code --strict}, one was
 * not provable), 2 for a bad file or command line.
 */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Prove that a running deployment enforces the policy file: per enforced policy and limit,",
      "fresh identities, bounded traffic, checks of admitted counts, 429, Retry-After, RateLimit",
      "fields and the problem body. See docs/verify.md.",
      "Exit status: 0 nothing failed, 1 a check failed, 2 bad file or command line."
    })
public final class VerifyCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "The policy file the deployment should enforce.")
  Path config;

  @Option(names = "--target", paramLabel = "URL", description = "The deployment, e.g. http://host:8080 (required unless --dry-run).")
  URI target;

  @Option(names = "--dry-run", description = "Print the plan and send nothing.")
  boolean dryRun;

  @Option(names = "--junit", paramLabel = "FILE", description = "Also write the results as JUnit XML.")
  Path junit;

  @Option(names = "--only", paramLabel = "POLICY", description = "Check only this policy.")
  String only;

  @Option(names = "--via-trusted-proxy",
      description = "Send fresh client addresses (198.18.0.0/15) in the deployment's client-IP header (clients.ip_header); verify must run from an address in trusted_proxies.")
  boolean viaTrustedProxy;

  @Option(names = "--allow-unsafe-methods", description = "Also send POST/PUT/PATCH/DELETE to routes that take only those.")
  boolean allowUnsafeMethods;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10", description = "Per request timeout (default ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Option(names = "--scenarios",
      description = "Run the abuse and load scenarios (flood, credential stuffing, retry storms, partner burst) instead of the checks.")
  boolean scenarios;

  @Option(names = "--scenario-requests", paramLabel = "N", defaultValue = "100",
      description = "Attempts per scenario run (default ${DEFAULT-VALUE}).")
  int scenarioRequests;

  @Option(names = "--admin-url", paramLabel = "URL",
      description = "The deployment's admin API (e.g. http://10.0.0.5:9090): also prove that a ban refuses (bans a fresh address for 1m, then lifts it). The token is the file's admin_token_env.")
  URI adminUrl;

  @Option(names = "--strict", description = "Exit 1 when a check is not provable, too.")
  boolean strict;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Optional<SluiceConfig> loaded = PolicyFiles.loadOrReport(config, err);
    if (loaded.isEmpty()) {
      return CheckCommand.INVALID;
    }
    if (only != null && loaded.get().policies().policies().stream().noneMatch(p -> p.name().equals(only))
        && loaded.get().policies().defaults().map(d -> !d.name().equals(only)).orElse(true)) {
      err.println("sluice verify: --only " + only + ": no such policy in " + config);
      err.flush();
      return CheckCommand.INVALID;
    }
    if (!dryRun && target == null) {
      err.println("sluice verify: --target URL is required (or --dry-run)");
      err.flush();
      return CheckCommand.INVALID;
    }
    if (target != null && (target.getScheme() == null || !target.getScheme().matches("https?") || target.getHost() == null)) {
      err.println("sluice verify: --target " + target + ": expected http://host:port or https://host:port");
      err.flush();
      return CheckCommand.INVALID;
    }
    Plan plan = Planner.plan(loaded.get(), new Planner.Options(viaTrustedProxy, allowUnsafeMethods, only, adminUrl != null));
    String where = target == null ? "(no target)" : target.toString();
    if (dryRun) {
      out.print(plan.render(where));
      out.flush();
      return 0;
    }
    if (scenarios) {
      return scenarios(loaded.get(), plan, out);
    }
    Target t = new Target(target, Duration.ofSeconds(timeoutSeconds),
        "sluice-verify/" + BuildInfo.current().version() + " (+docs/verify.md)", plan.requestBound());
    List<Outcome> outcomes = new Runner(t, plan, adminUrl == null ? null
        : new Admin(adminUrl, loaded.get().gateway().adminToken().orElse(null), Duration.ofSeconds(timeoutSeconds))).run(plan);
    out.print(Report.text(where, outcomes, t.sent(), plan.requestBound()));
    out.flush();
    if (junit != null) {
      try {
        Files.writeString(junit, Report.junit(where, outcomes), StandardCharsets.UTF_8);
      } catch (IOException e) {
        err.println("sluice verify: cannot write " + junit + ": " + e.getMessage());
        err.flush();
        return 1;
      }
    }
    boolean failed = outcomes.stream().anyMatch(o -> o.status() == Outcome.Status.FAILED);
    boolean unproven = outcomes.stream().anyMatch(o -> o.status() == Outcome.Status.NOT_PROVABLE);
    return failed || (strict && unproven) ? 1 : 0;
  }

  private int scenarios(SluiceConfig config, Plan plan, PrintWriter out) throws InterruptedException {
    Scenarios probe = new Scenarios(config, plan, null, scenarioRequests, allowUnsafeMethods);
    Target t = new Target(target, Duration.ofSeconds(timeoutSeconds),
        "sluice-verify/" + BuildInfo.current().version() + " (+docs/verify.md)", probe.bound());
    List<Scenarios.Verdict> verdicts = new Scenarios(config, plan, t, scenarioRequests, allowUnsafeMethods).run();
    out.println("sluice verify --scenarios against " + target + " (what reached the upstream = not refused by Sluice)");
    verdicts.forEach(out::println);
    out.println(t.sent() + " requests sent (bound " + probe.bound() + ")");
    out.flush();
    return verdicts.stream().anyMatch(v -> !v.ok()) ? 1 : 0;
  }
}
