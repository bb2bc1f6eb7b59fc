package dev.sluice.verify.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.verify.plan.Check;
import dev.sluice.verify.plan.Expected;
import dev.sluice.verify.plan.Identities;
import dev.sluice.verify.plan.Plan;
import dev.sluice.verify.plan.Recipe;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs the checks of a {@link Plan} one after the other against a {@link Target} and judges each
 * answer against the file (SPEC §5): admitted counts against the algorithm's bound for the elapsed
 * time, the 429, {@code Retry-After}, the rate-limit fields and the problem body.
 */
public final class Runner {
  static final String QUOTA_EXCEEDED = "https://iana.org/assignments/http-problem-types#quota-exceeded";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Target target;
  private final Identities identities;

  private final Admin admin;

  public Runner(Target target, Plan plan) {
    this(target, plan, null);
  }

  /** A runner that can ban through the deployment's admin API ({@code null} = no ban check). */
  public Runner(Target target, Plan plan, Admin admin) {
    this.target = target;
    this.identities = plan.identities();
    this.admin = admin;
  }

  /** Runs every check of {@code plan}, in order. */
  public List<Outcome> run(Plan plan) throws InterruptedException {
    List<Outcome> outcomes = new ArrayList<>();
    for (Check c : plan.checks()) {
      outcomes.add(run(c));
    }
    return outcomes;
  }

  /** Runs one check. */
  public Outcome run(Check c) throws InterruptedException {
    if (!c.provable()) {
      return new Outcome(c, Outcome.Status.NOT_PROVABLE, c.notProvable(), 0, 0);
    }
    int before = target.sent();
    long start = System.nanoTime();
    List<Seen> seen = new ArrayList<>();
    String error = null;
    Map<String, String> constants = identities.constants(c.recipe());
    String banId = null;
    try {
      if (c.kind() == Check.Kind.BAN) {
        if (admin == null) {
          return new Outcome(c, Outcome.Status.NOT_PROVABLE, "no admin API given", 0, 0);
        }
        Admin.Answer ban = admin.ban(constants.get("ip"), "1m");
        if (ban.status() != 201 || ban.id() == null) {
          return new Outcome(c, Outcome.Status.FAILED, "POST /v1/bans: expected 201 with an id, got " + ban.status()
              + " " + ban.body(), 0, 0);
        }
        banId = ban.id();
      }
      for (int i = 0; i < c.requests(); i++) {
        Map<String, String> values = identities.values(c.recipe(), constants);
        String query = identities.query(values);
        String target = c.route().path() + (query.isEmpty() ? "" : "?" + query);
        HttpResponse<String> r = this.target.send(c.route().method(), target, identities.headers(values));
        seen.add(new Seen(r, System.nanoTime() - start));
        if (c.kind() == Check.Kind.LIMIT && refused(r) && seen.size() >= c.mustAdmit() + 1) {
          // One refusal after the admissions is the proof; the plan's +2 is headroom for a refill.
          if (seen.stream().filter(s -> refused(s.response)).count() >= 1) {
            break;
          }
        }
      }
    } catch (IOException e) {
      error = "the target did not answer: " + e;
    } finally {
      if (banId != null) {
        try {
          admin.unban(banId);
        } catch (IOException e) {
          error = "DELETE /v1/bans/" + banId + " failed: " + e;
        }
      }
    }
    long elapsed = System.nanoTime() - start;
    int requests = target.sent() - before;
    double seconds = elapsed / 1e9;
    if (error != null) {
      return new Outcome(c, Outcome.Status.FAILED, error, requests, seconds);
    }
    Judgement j = switch (c.kind()) {
      case LIMIT -> limit(c, seen, elapsed);
      case SHADOW -> neverRefused(c, seen, "shadow policy " + c.policy());
      case EXEMPT -> neverRefused(c, seen, "exempt identity");
      case BLOCK -> block(seen.get(0).response);
      case BAN -> ban(seen.get(0).response);
    };
    return new Outcome(c, j.status, j.detail, requests, seconds);
  }

  private record Seen(HttpResponse<String> response, long atNanos) {}

  private record Judgement(Outcome.Status status, String detail) {
    static Judgement fail(String detail) {
      return new Judgement(Outcome.Status.FAILED, detail);
    }
  }

  /** A refusal by Sluice: 429 or 403 with a problem+json body (an upstream's own 429 is an admission). */
  public static boolean refused(HttpResponse<String> r) {
    return (r.statusCode() == 429 || r.statusCode() == 403)
        && r.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json");
  }

  private Judgement limit(Check c, List<Seen> seen, long elapsed) {
    Expected e = c.expect();
    int firstRefusal = -1;
    for (int i = 0; i < seen.size(); i++) {
      if (refused(seen.get(i).response)) {
        firstRefusal = i;
        break;
      }
      int status = seen.get(i).response.statusCode();
      if (status >= 500) {
        return Judgement.fail("request " + (i + 1) + " got " + status + " (expected an admission or a 429): "
            + abbreviate(seen.get(i).response.body()));
      }
    }
    long admitted = seen.stream().filter(s -> !refused(s.response)).count();
    long windowNanos = firstRefusal >= 0 ? seen.get(firstRefusal).atNanos : elapsed;
    long bound = Math.max(e.admittedBound(windowNanos), c.mustAdmit());
    String where = c.route() + " (" + c.recipe().describe() + ")";
    if (firstRefusal < 0) {
      if (admitted > bound) {
        return Judgement.fail("expected at most " + bound + " of " + seen.size() + " requests admitted in "
            + secs(elapsed) + " on " + where + " (" + e.limitText() + "), then a 429 naming " + e.item()
            + "; got " + admitted + " admitted and no refusal");
      }
      return new Judgement(Outcome.Status.NOT_PROVABLE, "the limit refilled faster than the requests arrived ("
          + admitted + " admitted in " + secs(elapsed) + ", bound " + bound + ")");
    }
    long admittedBefore = firstRefusal;
    if (admittedBefore > bound) {
      return Judgement.fail("expected at most " + bound + " admitted before the first 429 (" + e.limitText()
          + " in " + secs(windowNanos) + "), got " + admittedBefore + " on " + where);
    }
    if (admittedBefore < c.mustAdmit()) {
      return Judgement.fail("expected a fresh identity to be admitted " + c.mustAdmit() + " times (" + e.limitText()
          + "), got a 429 after " + admittedBefore + " on " + where + ": " + describe(seen.get(firstRefusal).response));
    }
    HttpResponse<String> r = seen.get(firstRefusal).response;
    List<String> problems = new ArrayList<>();
    if (r.statusCode() != 429) {
      problems.add("status: expected 429, got " + r.statusCode());
    }
    JsonNode body = body(r);
    if (body == null) {
      problems.add("body: expected application/problem+json, got " + abbreviate(r.body()));
    } else {
      expectText(problems, body, "type", QUOTA_EXCEEDED);
      expectText(problems, body, "policy", c.policy());
      expectText(problems, body, "limit", e.limitText());
      JsonNode violated = body.get("violated-policies");
      boolean named = false;
      if (violated != null && violated.isArray()) {
        for (JsonNode v : violated) {
          named |= v.asText().equals(e.item());
        }
      }
      if (!named) {
        problems.add("body violated-policies: expected to contain \"" + e.item() + "\", got " + violated);
      }
    }
    Optional<String> retryAfterText = r.headers().firstValue("Retry-After");
    long retryAfter = -1;
    try {
      retryAfter = Long.parseLong(retryAfterText.orElse("").trim());
    } catch (NumberFormatException ex) {
      problems.add("Retry-After: expected an integer >= 1, got " + retryAfterText.orElse("(missing)"));
    }
    if (retryAfter >= 0) {
      long min = e.retryAfterMin(windowNanos);
      long max = e.retryAfterMax();
      if (retryAfter < min || retryAfter > max) {
        problems.add("Retry-After: expected " + (min == max ? min : min + ".." + max) + " (" + e.limitText()
            + ", cost " + e.cost() + "), got " + retryAfter);
      }
      if (body != null && body.has("retry_after") && body.get("retry_after").asLong() != retryAfter) {
        problems.add("body retry_after: expected " + retryAfter + " (as Retry-After), got " + body.get("retry_after"));
      }
    }
    problems.addAll(RateLimitFields.check(r, e, retryAfter));
    if (!problems.isEmpty()) {
      return Judgement.fail(String.join("; ", problems) + " (on " + where + ")");
    }
    return new Judgement(Outcome.Status.PROVEN, admittedBefore + " admitted, then 429 naming " + e.item()
        + " with Retry-After " + retryAfter + " (bound " + bound + " in " + secs(windowNanos) + ")");
  }

  private Judgement neverRefused(Check c, List<Seen> seen, String what) {
    for (int i = 0; i < seen.size(); i++) {
      HttpResponse<String> r = seen.get(i).response;
      if (refused(r)) {
        return Judgement.fail("expected no refusal of the " + what + " in " + seen.size() + " requests to "
            + c.route() + "; request " + (i + 1) + " got " + describe(r));
      }
      if (c.kind() == Check.Kind.SHADOW) {
        String policyField = r.headers().firstValue("RateLimit-Policy").orElse("");
        if (policyField.contains("\"" + c.policy() + "\"") || policyField.contains("\"" + c.policy() + "/")) {
          return Judgement.fail("expected no rate-limit fields for shadow policy " + c.policy() + "; request "
              + (i + 1) + " got RateLimit-Policy: " + policyField);
        }
      }
      if (c.kind() == Check.Kind.EXEMPT && r.headers().firstValue("RateLimit").isPresent()) {
        return Judgement.fail("expected no rate-limit fields on an exempt request; request " + (i + 1)
            + " got RateLimit: " + r.headers().firstValue("RateLimit").get());
      }
    }
    return new Judgement(Outcome.Status.PROVEN, seen.size() + " of " + seen.size() + " admitted on "
        + c.route() + " (a non-exempt identity is refused after " + (seen.size() - 2) + ")");
  }

  private Judgement block(HttpResponse<String> r) {
    if (r.statusCode() != 403 || body(r) == null) {
      return Judgement.fail("expected 403 with a problem+json body, got " + describe(r));
    }
    return new Judgement(Outcome.Status.PROVEN, "403 problem+json");
  }

  private Judgement ban(HttpResponse<String> r) {
    JsonNode body = body(r);
    String type = body == null || !body.has("type") ? "(none)" : body.get("type").asText();
    long retryAfter = r.headers().firstValue("Retry-After").map(v -> {
      try {
        return Long.parseLong(v.trim());
      } catch (NumberFormatException e) {
        return -1L;
      }
    }).orElse(-1L);
    if (r.statusCode() != 429 || !type.endsWith("#abnormal-usage-detected") || retryAfter < 1 || retryAfter > 60) {
      return Judgement.fail("expected 429 with type ...#abnormal-usage-detected and Retry-After 1..60 for a 1m ban,"
          + " got " + r.statusCode() + " type " + type + " Retry-After " + retryAfter);
    }
    return new Judgement(Outcome.Status.PROVEN, "banned address refused: 429 abnormal-usage-detected, Retry-After "
        + retryAfter + "; ban lifted");
  }

  private static void expectText(List<String> problems, JsonNode body, String field, String expected) {
    JsonNode v = body.get(field);
    if (v == null || !v.asText().equals(expected)) {
      problems.add("body " + field + ": expected \"" + expected + "\", got " + (v == null ? "(missing)" : v));
    }
  }

  static JsonNode body(HttpResponse<String> r) {
    if (!r.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json")) {
      return null;
    }
    try {
      JsonNode n = JSON.readTree(r.body());
      return n != null && n.isObject() ? n : null;
    } catch (IOException e) {
      return null;
    }
  }

  static String describe(HttpResponse<String> r) {
    JsonNode b = body(r);
    return r.statusCode() + (b != null && b.has("policy") ? " naming policy " + b.get("policy").asText() : "")
        + (b != null && b.has("violated-policies") ? " " + b.get("violated-policies") : "");
  }

  private static String abbreviate(String s) {
    String one = s.replaceAll("\\s+", " ");
    return one.length() > 200 ? one.substring(0, 200) + "..." : one;
  }

  private static String secs(long nanos) {
    return String.format("%.2fs", nanos / 1e9);
  }
}
