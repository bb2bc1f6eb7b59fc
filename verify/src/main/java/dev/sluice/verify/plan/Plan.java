package dev.sluice.verify.plan;

import java.util.List;

/**
 * A verify plan: its checks in order and the most requests it may send (the sum of the checks'
 * {@link Check#requests()}), which the runner enforces.
 *
 * @param checks the checks, provable or not
 * @param identities how requests are identified (the file's sources) for the print-out
 */
public record Plan(List<Check> checks, Identities identities) {
  public Plan {
    checks = List.copyOf(checks);
  }

  /** The most requests the plan sends to the target. */
  public int requestBound() {
    return checks.stream().mapToInt(Check::requests).sum();
  }

  /** The plan as text, one check a line (what {@code --dry-run} prints). */
  public String render(String target) {
    StringBuilder sb = new StringBuilder();
    sb.append("sluice verify plan against ").append(target).append('\n');
    for (Check c : checks) {
      if (c.provable()) {
        sb.append(String.format("  %-28s %-6s %-32s %s; %d requests, %s%n", c.id(), c.kind().name().toLowerCase(),
            c.route(), c.recipe().describe(), c.requests(),
            switch (c.kind()) {
              case LIMIT -> "must admit " + c.mustAdmit() + " then refuse with 429 naming " + c.expect().item();
              case SHADOW -> "must never refuse for " + c.policy();
              case EXEMPT -> "must never refuse";
              case BLOCK -> "must answer 403";
              case BAN -> "after a ban through the admin API: must answer 429 abnormal-usage-detected";
            }));
      } else {
        sb.append(String.format("  %-28s not provable: %s%n", c.id(), c.notProvable()));
      }
    }
    sb.append("at most ").append(requestBound()).append(" requests (capacity + 2 per limit check, 1 per block or ban check)\n");
    return sb.toString();
  }
}
