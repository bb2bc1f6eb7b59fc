package dev.sluice.verify.scenarios;

import dev.sluice.config.SluiceConfig;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.policy.Mode;
import dev.sluice.policy.Policy;
import dev.sluice.verify.plan.Check;
import dev.sluice.verify.plan.Identities;
import dev.sluice.verify.plan.Plan;
import dev.sluice.verify.run.Runner;
import dev.sluice.verify.run.Target;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The scenarios of {@code --scenarios}. Each sends at most {@code requests} requests (the flood and
 * the stuffing runs) or the burst it tests, and prints one verdict line:
 * {@code OK stuffing: 5 of 200 attempts reached POST /auth/login — the per-username limit allows 5}.
 * A verdict is {@code FAILED} when more reached the upstream than the file allows.
 */
public final class Scenarios {
  /** One verdict: {@code ok} = what reached the upstream is within what the file allows. */
  public record Verdict(String name, boolean ok, String text) {
    @Override
    public String toString() {
      return (text.startsWith("skipped") ? "SKIPPED " : ok ? "OK      " : "FAILED  ") + name + ": " + text;
    }
  }

  private final SluiceConfig config;
  private final Plan plan;
  private final Target target;
  private final Identities identities;
  private final int requests;
  private final boolean allowUnsafe;

  /** Scenarios over the provable checks of {@code plan}, {@code requests} attempts per run. */
  public Scenarios(SluiceConfig config, Plan plan, Target target, int requests, boolean allowUnsafe) {
    this.config = config;
    this.plan = plan;
    this.target = target;
    this.identities = plan.identities();
    this.requests = requests;
    this.allowUnsafe = allowUnsafe;
  }

  /**
   * The most requests all scenarios send together: the flood and the impatient retry storm
   * {@code requests} each, the patient one at most {@code requests}, the partner burst at most 64,
   * and two stuffing runs of {@code requests} per policy counting by a body field.
   */
  public int bound() {
    long stuffing = config.policies().policies().stream()
        .filter(p -> bodyField(p).isPresent() && p.mode() != Mode.SHADOW && p.methods().contains("POST")).count();
    return (int) (3L * requests + 64 + (allowUnsafe ? 2L * requests * stuffing : 0));
  }

  /** Runs every scenario, in order. */
  public List<Verdict> run() throws InterruptedException {
    List<Verdict> verdicts = new ArrayList<>();
    Optional<Check> tightest = plan.checks().stream()
        .filter(c -> c.kind() == Check.Kind.LIMIT && c.provable())
        .min(Comparator.comparingLong(Check::mustAdmit));
    try {
      if (tightest.isEmpty()) {
        verdicts.add(new Verdict("flood", true, "skipped: no provable limit to flood"));
      } else {
        verdicts.add(flood(tightest.get()));
        verdicts.add(retryStorm(tightest.get(), false));
        verdicts.add(retryStorm(tightest.get(), true));
      }
      verdicts.addAll(stuffing());
      verdicts.add(partnerBurst());
    } catch (IOException e) {
      verdicts.add(new Verdict("scenarios", false, "the target did not answer: " + e));
    }
    return verdicts;
  }

  private Verdict flood(Check c) throws IOException, InterruptedException {
    Map<String, String> one = identities.constants(c.recipe());
    long start = System.nanoTime();
    int reached = 0;
    for (int i = 0; i < requests; i++) {
      if (!Runner.refused(send(c, one))) {
        reached++;
      }
    }
    long bound = c.expect().admittedBound(System.nanoTime() - start);
    return new Verdict("flood", reached <= bound, reached + " of " + requests + " requests from one identity reached "
        + c.route() + " in " + secs(System.nanoTime() - start) + " — " + c.expect().item() + " ("
        + c.expect().limitText() + ") allows " + bound);
  }

  /**
   * A client retrying at once after every 429 versus one that waits {@code Retry-After} (when it
   * is at most 3 s; a longer wait ends the run, as a patient client would stop there).
   */
  private Verdict retryStorm(Check c, boolean honour) throws IOException, InterruptedException {
    Map<String, String> one = identities.constants(c.recipe());
    int attempts = honour ? Math.min(requests, (int) c.mustAdmit() + 8) : requests;
    long start = System.nanoTime();
    int reached = 0;
    int refused = 0;
    int sent = 0;
    for (; sent < attempts; sent++) {
      HttpResponse<String> r = send(c, one);
      if (!Runner.refused(r)) {
        reached++;
        continue;
      }
      refused++;
      if (honour) {
        long wait = r.headers().firstValue("Retry-After").map(Long::parseLong).orElse(1L);
        if (wait > 3) {
          sent++;
          break;
        }
        Thread.sleep(wait * 1000);
      }
    }
    long bound = c.expect().admittedBound(System.nanoTime() - start);
    String name = honour ? "retry storm (honours Retry-After)" : "retry storm (ignores Retry-After)";
    return new Verdict(name, reached <= bound, reached + " of " + sent + " attempts reached " + c.route() + ", "
        + refused + " refused, in " + secs(System.nanoTime() - start) + " — " + c.expect().item() + " allows " + bound
        + (honour ? "" : "; ignoring Retry-After gains nothing"));
  }

  /** Credential stuffing against policies that count by a {@code body:} field on a POST route. */
  private List<Verdict> stuffing() throws IOException, InterruptedException {
    List<Verdict> verdicts = new ArrayList<>();
    for (Policy p : config.policies().policies()) {
      Optional<String> field = bodyField(p);
      if (field.isEmpty() || p.mode() == Mode.SHADOW || !p.methods().contains("POST")) {
        continue;
      }
      String path = p.paths().get(0);
      if (!allowUnsafe) {
        verdicts.add(new Verdict("stuffing " + p.name(), true, "skipped: POST " + path
            + " needs --allow-unsafe-methods"));
        continue;
      }
      long allows = p.limits().stream().mapToLong(l -> capacity(p, l)).min().orElse(0) / p.cost();
      boolean perUsername = p.by().stream().anyMatch(s -> s.toString().equals("body:" + field.get()));
      // many addresses x one username
      String user = identities.fresh("user");
      int reached = 0;
      for (int i = 0; i < requests; i++) {
        Map<String, String> values = identities.addressesVary() ? Map.of("ip", identities.fresh("ip")) : Map.of();
        HttpResponse<String> r = target.send("POST", path, identities.headers(values),
            "{\"" + field.get() + "\": \"" + user + "\", \"password\": \"sluice-verify-wrong\"}");
        if (!Runner.refused(r)) {
          reached++;
        }
      }
      long expected = perUsername ? allows : requests;
      verdicts.add(new Verdict("stuffing " + p.name() + " (many addresses, one " + field.get() + ")",
          reached <= Math.max(expected, allows) || !perUsername,
          reached + " of " + requests + " attempts reached POST " + path + " — "
              + (perUsername ? "the per-" + field.get() + " limit allows " + allows
                  : "no limit of " + p.name() + " holds one " + field.get() + " across addresses")));
      // one address x many usernames
      Map<String, String> address = identities.addressesVary() ? Map.of("ip", identities.fresh("ip")) : Map.of();
      reached = 0;
      for (int i = 0; i < requests; i++) {
        HttpResponse<String> r = target.send("POST", path, identities.headers(address),
            "{\"" + field.get() + "\": \"" + identities.fresh("user") + "\", \"password\": \"sluice-verify-wrong\"}");
        if (!Runner.refused(r)) {
          reached++;
        }
      }
      verdicts.add(new Verdict("stuffing " + p.name() + " (one address, many " + field.get() + "s)", true,
          reached + " of " + requests + " attempts reached POST " + path
              + (reached == requests ? " — no per-address limit on this route held them" : "")));
    }
    return verdicts;
  }

  /** A partner (a fresh key) sending its whole burst at once: all of it must reach the upstream. */
  private Verdict partnerBurst() throws IOException, InterruptedException {
    Optional<Check> burst = plan.checks().stream()
        .filter(c -> c.kind() == Check.Kind.LIMIT && c.provable() && c.expect().capacity() > c.expect().quantity())
        .findFirst();
    if (burst.isEmpty()) {
      return new Verdict("partner burst", true, "skipped: no provable limit has a burst above its rate");
    }
    Check c = burst.get();
    Map<String, String> one = identities.constants(c.recipe());
    int n = (int) Math.min(c.mustAdmit(), 64);
    int reached = 0;
    for (int i = 0; i < n; i++) {
      if (!Runner.refused(send(c, one))) {
        reached++;
      }
    }
    return new Verdict("partner burst", reached == n, reached + " of " + n + " requests of one burst reached "
        + c.route() + " — within the burst of " + c.expect().capacity() + " (" + c.expect().item() + ")");
  }

  private HttpResponse<String> send(Check c, Map<String, String> constants) throws IOException, InterruptedException {
    Map<String, String> values = identities.values(c.recipe(), constants);
    String query = identities.query(values);
    return target.send(c.route().method(), c.route().path() + (query.isEmpty() ? "" : "?" + query),
        identities.headers(values));
  }

  private static Optional<String> bodyField(Policy p) {
    for (IdentitySpec spec : p.by()) {
      for (IdentitySpec part : spec.parts().isEmpty() ? List.of(spec) : spec.parts()) {
        if (part.readsBody()) {
          return Optional.of(part.parameter());
        }
      }
    }
    return Optional.empty();
  }

  private static long capacity(Policy p, Limit l) {
    return p.algorithm() == dev.sluice.algorithm.Algorithm.SLIDING_WINDOW ? l.quantity() : l.burst();
  }

  private static String secs(long nanos) {
    return String.format("%.1fs", nanos / 1e9);
  }
}
