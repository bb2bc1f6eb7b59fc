package dev.sluice.verify.run;

import dev.sluice.verify.plan.Expected;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks the rate-limit fields of a 429 against the file's {@code headers:} (SPEC §5): the IETF
 * {@code RateLimit-Policy} / {@code RateLimit} items, the legacy {@code X-RateLimit-*} fields, or
 * none of them.
 */
final class RateLimitFields {
  private RateLimitFields() {}

  /** The problems found, empty when the fields are as the file says. */
  static List<String> check(HttpResponse<String> r, Expected e, long retryAfter) {
    List<String> problems = new ArrayList<>();
    boolean ietf = e.headers().equals("ietf") || e.headers().equals("both");
    boolean legacy = e.headers().equals("legacy") || e.headers().equals("both");
    String policy = r.headers().firstValue("RateLimit-Policy").orElse(null);
    String rateLimit = r.headers().firstValue("RateLimit").orElse(null);
    String xLimit = r.headers().firstValue("X-RateLimit-Limit").orElse(null);
    if (ietf) {
      if (policy == null || rateLimit == null) {
        problems.add("headers " + e.headers() + ": expected RateLimit-Policy and RateLimit, got "
            + (policy == null ? "no RateLimit-Policy" : "RateLimit-Policy") + (rateLimit == null ? ", no RateLimit" : ""));
      } else {
        Map<String, Map<String, String>> items = items(policy);
        for (Expected.Advertised a : e.advertised()) {
          Map<String, String> p = items.get(a.item());
          String want = "q=" + a.q() + ";w=" + a.w() + (a.burst() > 0 ? ";sluice-burst=" + a.burst() : "");
          String got = p == null ? "(missing)" : "q=" + p.get("q") + ";w=" + p.get("w")
              + (p.containsKey("sluice-burst") ? ";sluice-burst=" + p.get("sluice-burst") : "");
          if (!want.equals(got)) {
            problems.add("RateLimit-Policy \"" + a.item() + "\": expected " + want + ", got " + got);
          }
        }
        Map<String, Map<String, String>> state = items(rateLimit);
        Map<String, String> item = state.get(e.item());
        if (item == null) {
          problems.add("RateLimit: expected the item \"" + e.item() + "\", got " + rateLimit);
        } else {
          if (!"0".equals(item.get("r"))) {
            problems.add("RateLimit \"" + e.item() + "\": expected r=0, got r=" + item.get("r"));
          }
          if (retryAfter >= 0 && !String.valueOf(retryAfter).equals(item.get("t"))) {
            problems.add("RateLimit \"" + e.item() + "\": expected t=" + retryAfter + " (Retry-After), got t="
                + item.get("t"));
          }
        }
      }
    } else if (policy != null || rateLimit != null) {
      problems.add("headers " + e.headers() + ": expected no RateLimit fields, got RateLimit-Policy: " + policy);
    }
    if (legacy) {
      if (xLimit == null) {
        problems.add("headers " + e.headers() + ": expected X-RateLimit-Limit, got none");
      } else {
        if (!xLimit.equals(String.valueOf(e.quantity()))) {
          problems.add("X-RateLimit-Limit: expected " + e.quantity() + ", got " + xLimit);
        }
        String remaining = r.headers().firstValue("X-RateLimit-Remaining").orElse("(missing)");
        if (!remaining.equals("0")) {
          problems.add("X-RateLimit-Remaining: expected 0, got " + remaining);
        }
        String reset = r.headers().firstValue("X-RateLimit-Reset").orElse("(missing)");
        if (retryAfter >= 0 && !reset.equals(String.valueOf(retryAfter))) {
          problems.add("X-RateLimit-Reset: expected " + retryAfter + " (Retry-After), got " + reset);
        }
      }
    } else if (xLimit != null) {
      problems.add("headers " + e.headers() + ": expected no X-RateLimit fields, got X-RateLimit-Limit: " + xLimit);
    }
    return problems;
  }

  /** Parses an RFC 9651 list of string items with parameters: {@code "a";q=1;w=2, "b";r=0}. */
  static Map<String, Map<String, String>> items(String field) {
    Map<String, Map<String, String>> items = new HashMap<>();
    int i = 0;
    while (i < field.length()) {
      while (i < field.length() && (field.charAt(i) == ' ' || field.charAt(i) == ',')) {
        i++;
      }
      if (i >= field.length() || field.charAt(i) != '"') {
        break;
      }
      StringBuilder name = new StringBuilder();
      i++;
      while (i < field.length() && field.charAt(i) != '"') {
        if (field.charAt(i) == '\\' && i + 1 < field.length()) {
          i++;
        }
        name.append(field.charAt(i++));
      }
      i++;
      Map<String, String> params = new HashMap<>();
      while (i < field.length() && field.charAt(i) == ';') {
        int end = i + 1;
        boolean quoted = false;
        while (end < field.length() && (quoted || (field.charAt(end) != ';' && field.charAt(end) != ','))) {
          if (field.charAt(end) == '"') {
            quoted = !quoted;
          }
          end++;
        }
        String param = field.substring(i + 1, end).trim();
        int eq = param.indexOf('=');
        params.put(eq < 0 ? param : param.substring(0, eq), eq < 0 ? "?1" : param.substring(eq + 1));
        i = end;
      }
      items.put(name.toString(), params);
    }
    return items;
  }
}
