package dev.sluice.config;

import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.policy.Rollout;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code rollout: 10%} (SPEC §9): its grammar and how {@code sluice check} shows it.
 *
 * <p>A share is a number of percent from 0 to 100 with at most two decimals and a {@code %} sign
 * ({@code 10%}, {@code 2.5%}, {@code 0.25%}); the sign is required so nobody reads {@code 10} as a
 * fraction. Held as basis points (10,000 = 100%).
 */
final class RolloutShare {
  private static final Pattern SHARE = Pattern.compile("(\\d{1,3})(?:\\.(\\d{1,2}))?\\s*%");

  private RolloutShare() {}

  /** Basis points of {@code text}, or -1 when it is not a share from 0% to 100%. */
  static int parse(String text) {
    Matcher m = SHARE.matcher(text.strip());
    if (!m.matches()) {
      return -1;
    }
    int whole = Integer.parseInt(m.group(1));
    String fraction = m.group(2) == null ? "0" : (m.group(2) + "0").substring(0, 2);
    int share = whole * 100 + Integer.parseInt(fraction);
    return share > Rollout.ALL ? -1 : share;
  }

  /** The matrix's MODE cell: {@code enforce}, {@code shadow}, or {@code enforce 10% / shadow 90%}. */
  static String describe(Policy p) {
    int share = p.rollout();
    if (share == Rollout.ALL) {
      return "enforce";
    }
    if (share == 0) {
      return "shadow";
    }
    return "enforce " + Rollout.text(share) + " / shadow " + Rollout.text(Rollout.ALL - share);
  }

  /**
   * Notes for the matrix: which policies are in shadow or partly rolled out, and that the defaults
   * still apply to the requests they do not enforce (SPEC §2).
   */
  static List<String> notes(PolicySet set) {
    List<String> notes = new ArrayList<>();
    for (Policy p : set.policies()) {
      if (p.rollout() == Rollout.ALL) {
        continue;
      }
      String who = p.rollout() == 0 ? "every identity" : "the " + Rollout.text(Rollout.ALL - p.rollout())
          + " of identities outside its rollout";
      notes.add(p.name() + ": shadow for " + who + " (decided and counted, never refused)"
          + (set.defaults().isPresent()
              ? "; requests no enforced policy covers stay under the defaults"
              : "; no defaults: those requests are not limited"));
    }
    return notes;
  }
}
