package dev.sluice.gateway.response;

import dev.sluice.config.HeaderStyle;
import dev.sluice.engine.Decision;
import dev.sluice.engine.Outcome;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.limit.Limit;
import dev.sluice.policy.Policy;
import dev.sluice.store.Consumption;
import dev.sluice.store.LimitStatus;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.List;

/**
 * Writes the rate-limit header fields of a decision (SPEC §5).
 *
 * <p>Which limit is reported: on an allowed response, the enforced policy and limit with the
 * fewest tokens left ({@link Decision#mostRestrictive()}); on a 429, the enforced policy and limit
 * that denied ({@link Decision#denying()}), with {@code t} equal to {@code Retry-After}. Nothing is
 * written for exempt requests, for requests that only shadow policies limited, for store failures,
 * or with {@link HeaderStyle#NONE}.
 *
 * <p>IETF fields (draft-ietf-httpapi-ratelimit-headers-10/-11, RFC 9651 structured fields):
 * {@code RateLimit-Policy} lists every limit of the reported policy (so a client sees all quotas
 * that bind it, e.g. a burst limit and an hourly one), while {@code RateLimit} names only the one
 * reported limit. Example for {@code login} with {@code ["5/minute", "20/hour"]}:
 *
 * <pre>
 * RateLimit-Policy: "login/1";q=5;w=60, "login/2";q=20;w=3600
 * RateLimit: "login/1";r=0;t=12
 * </pre>
 *
 * A limit whose burst differs from its quantity carries {@code ;sluice-burst=B}. The partition key
 * ({@code pk}) is never sent, so no identity (hashed or not) leaves the gateway.
 *
 * <p>Legacy fields: {@code X-RateLimit-Limit} = N of the reported limit,
 * {@code X-RateLimit-Remaining} = whole tokens left, {@code X-RateLimit-Reset} = the same delta
 * seconds as {@code t} (time until the next token, not an epoch): with a token bucket that is when
 * a client that ran out may send again.
 *
 * <p>Stateless and thread-safe.
 */
public final class RateLimitHeaders {

  /** The IETF field with the quota policies. */
  public static final String RATELIMIT_POLICY = "RateLimit-Policy";
  /** The IETF field with the current state of the reported limit. */
  public static final String RATELIMIT = "RateLimit";
  public static final String X_RATELIMIT_LIMIT = "X-RateLimit-Limit";
  public static final String X_RATELIMIT_REMAINING = "X-RateLimit-Remaining";
  public static final String X_RATELIMIT_RESET = "X-RateLimit-Reset";

  // The same names as AsciiStrings: no conversion when set, and written to the wire as they are.
  private static final AsciiString RATELIMIT_POLICY_NAME = AsciiString.cached(RATELIMIT_POLICY);
  private static final AsciiString RATELIMIT_NAME = AsciiString.cached(RATELIMIT);
  private static final AsciiString X_RATELIMIT_LIMIT_NAME = AsciiString.cached(X_RATELIMIT_LIMIT);
  private static final AsciiString X_RATELIMIT_REMAINING_NAME = AsciiString.cached(X_RATELIMIT_REMAINING);
  private static final AsciiString X_RATELIMIT_RESET_NAME = AsciiString.cached(X_RATELIMIT_RESET);

  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  private RateLimitHeaders() {}

  /**
   * Sets the rate-limit fields of {@code decision} on {@code headers} in the given style, replacing
   * any fields of the same names (an upstream must not be able to forge them). Does not set
   * {@code Retry-After}; {@link Problems#tooManyRequests} does.
   *
   * @param style which header family to write
   * @param decision the engine's decision for the request
   * @param headers the response headers to add to
   */
  public static void apply(HeaderStyle style, Decision decision, HttpHeaders headers) {
    if (decision.exempt()) {
      return;
    }
    if (decision.outcome() == Outcome.LIMITED && decision.concurrencyLimited()) {
      decision.denying().ifPresent(d -> writeConcurrency(style, d.policy().name(), d.policy().concurrency(), headers));
    } else if (decision.outcome() == Outcome.LIMITED) {
      decision.denying().ifPresent(denying -> writeDenied(style, denying, decision.retryAfterSeconds(), headers));
    } else if (decision.outcome() == Outcome.ALLOWED) {
      decision.mostRestrictive().ifPresent(pd -> writeAllowed(style, pd, headers));
    }
  }

  /**
   * The item name of a policy's concurrency cap: {@code "<policy>/concurrency"}, distinct from the
   * names of its rate limits ({@code "<policy>"}, {@code "<policy>/n"}).
   */
  static String concurrencyItem(String policy) {
    return policy + "/concurrency";
  }

  /**
   * The fields of a 429 for a concurrency cap (draft-ietf-httpapi-ratelimit-headers-10 §3.1.2:
   * quota unit {@code qu} is an sf-string, {@code "concurrent-requests"}; a concurrency quota has
   * no window, so {@code w} is omitted): {@code RateLimit-Policy: "p/concurrency";q=N;qu="concurrent-requests"}
   * and {@code RateLimit: "p/concurrency";r=0;t=1}. Legacy fields: limit N, remaining 0, reset 1.
   */
  static void writeConcurrency(HeaderStyle style, String policy, int cap, HttpHeaders headers) {
    String item = concurrencyItem(policy);
    if (style == HeaderStyle.IETF || style == HeaderStyle.BOTH) {
      StringBuilder sb = new StringBuilder(item.length() + 40);
      appendSfString(sb, item);
      sb.append(";q=").append(cap).append(";qu=\"concurrent-requests\"");
      headers.set(RATELIMIT_POLICY, sb.toString());
      headers.set(RATELIMIT, rateLimitField(item, 0, 1));
    }
    if (style == HeaderStyle.LEGACY || style == HeaderStyle.BOTH) {
      headers.set(X_RATELIMIT_LIMIT, Integer.toString(cap));
      headers.set(X_RATELIMIT_REMAINING, "0");
      headers.set(X_RATELIMIT_RESET, "1");
    }
  }

  /** The fields of a 429: the denying policy and limit, {@code t} = {@code retryAfterSeconds}. */
  static void writeDenied(HeaderStyle style, PolicyDecision denying, long retryAfterSeconds, HttpHeaders headers) {
    LimitStatus status = reportable(denying);
    if (status == null) {
      return;
    }
    write(style, denying, status.remaining(), retryAfterSeconds, headers);
  }

  /**
   * {@link #writeDenied(HeaderStyle, PolicyDecision, long, HttpHeaders)} as wire lines ({@code
   * name: value\r\n}) in the same order, for a pre-encoded 429 ({@link EncodedResponse}).
   */
  static void writeDenied(HeaderStyle style, PolicyDecision denying, long retryAfterSeconds, ByteBuf out) {
    LimitStatus status = reportable(denying);
    if (status == null) {
      return;
    }
    LimitTemplates templates = LimitTemplates.of(denying.policy());
    int index = denying.limitIndex();
    if (style == HeaderStyle.IETF || style == HeaderStyle.BOTH) {
      EncodedResponse.field(out, RATELIMIT_POLICY_NAME, templates.policyField());
      EncodedResponse.field(out, RATELIMIT_NAME, templates.rateLimitField(index, status.remaining(), retryAfterSeconds));
    }
    if (style == HeaderStyle.LEGACY || style == HeaderStyle.BOTH) {
      EncodedResponse.field(out, X_RATELIMIT_LIMIT_NAME, templates.quantity(index));
      EncodedResponse.field(out, X_RATELIMIT_REMAINING_NAME, LimitTemplates.number(status.remaining()));
      EncodedResponse.field(out, X_RATELIMIT_RESET_NAME, LimitTemplates.number(retryAfterSeconds));
    }
  }

  /**
   * The limit {@link #apply} reports on a response for an allowed (or exempt) decision, or {@code
   * null} when it writes no field (exempt, {@link HeaderStyle#NONE}, shadow-only, no counts).
   *
   * @throws IllegalArgumentException for a decision that is neither exempt nor allowed
   */
  public static PolicyDecision reportedAllowed(HeaderStyle style, Decision decision) {
    if (decision.exempt() || style == HeaderStyle.NONE) {
      return null;
    }
    if (decision.outcome() != Outcome.ALLOWED) {
      throw new IllegalArgumentException("not an allowed decision: " + decision.outcome());
    }
    PolicyDecision pd = decision.mostRestrictive().orElse(null);
    return pd == null || reportable(pd) == null ? null : pd;
  }

  /**
   * Whether {@link #writeAllowed(HeaderStyle, PolicyDecision, ByteBuf)} writes a field named {@code
   * name} (ASCII case-insensitive) in {@code style}: the upstream's fields of that name are dropped,
   * as {@link #apply}'s {@code set} replaces them.
   */
  public static boolean writesField(HeaderStyle style, CharSequence name) {
    boolean ietf = style == HeaderStyle.IETF || style == HeaderStyle.BOTH;
    boolean legacy = style == HeaderStyle.LEGACY || style == HeaderStyle.BOTH;
    return (ietf && (RATELIMIT_POLICY_NAME.contentEqualsIgnoreCase(name) || RATELIMIT_NAME.contentEqualsIgnoreCase(name)))
        || (legacy && (X_RATELIMIT_LIMIT_NAME.contentEqualsIgnoreCase(name)
            || X_RATELIMIT_REMAINING_NAME.contentEqualsIgnoreCase(name)
            || X_RATELIMIT_RESET_NAME.contentEqualsIgnoreCase(name)));
  }

  /**
   * {@link #apply}'s fields for an allowed response as wire lines ({@code name: value\r\n}), in
   * the same order and with the same bytes, for a response head written in wire form.
   *
   * @param reported what {@link #reportedAllowed} returned (not null)
   */
  public static void writeAllowed(HeaderStyle style, PolicyDecision reported, ByteBuf out) {
    LimitStatus status = reportable(reported);
    LimitTemplates templates = LimitTemplates.of(reported.policy());
    int index = reported.limitIndex();
    long remaining = status.remaining();
    long resetSeconds = ceilSeconds(status.nanosToNextToken());
    if (style == HeaderStyle.IETF || style == HeaderStyle.BOTH) {
      EncodedResponse.field(out, RATELIMIT_POLICY_NAME, templates.policyField());
      EncodedResponse.field(out, RATELIMIT_NAME, templates.rateLimitField(index, remaining, resetSeconds));
    }
    if (style == HeaderStyle.LEGACY || style == HeaderStyle.BOTH) {
      EncodedResponse.field(out, X_RATELIMIT_LIMIT_NAME, templates.quantity(index));
      EncodedResponse.field(out, X_RATELIMIT_REMAINING_NAME, LimitTemplates.number(remaining));
      EncodedResponse.field(out, X_RATELIMIT_RESET_NAME, LimitTemplates.number(resetSeconds));
    }
  }

  private static void writeAllowed(HeaderStyle style, PolicyDecision pd, HttpHeaders headers) {
    LimitStatus status = reportable(pd);
    if (status == null) {
      return;
    }
    write(style, pd, status.remaining(), ceilSeconds(status.nanosToNextToken()), headers);
  }

  /** The status of the decision's limit, or null when there is nothing truthful to report. */
  private static LimitStatus reportable(PolicyDecision pd) {
    // Shadow policies never add fields (SPEC §2); a failed store call has no counts to report.
    if (pd.shadow() || pd.storeError()) {
      return null;
    }
    Consumption consumption = pd.consumption();
    int index = pd.limitIndex();
    if (consumption == null || index < 0 || index >= consumption.limits().size()) {
      return null;
    }
    return consumption.limits().get(index);
  }

  private static void write(HeaderStyle style, PolicyDecision pd, long remaining, long resetSeconds, HttpHeaders headers) {
    // Every response with a rate-limit field passes here: the values come from per-policy templates.
    LimitTemplates templates = LimitTemplates.of(pd.policy());
    int index = pd.limitIndex();
    if (style == HeaderStyle.IETF || style == HeaderStyle.BOTH) {
      headers.set(RATELIMIT_POLICY_NAME, templates.policyField());
      headers.set(RATELIMIT_NAME, templates.rateLimitField(index, remaining, resetSeconds));
    }
    if (style == HeaderStyle.LEGACY || style == HeaderStyle.BOTH) {
      headers.set(X_RATELIMIT_LIMIT_NAME, templates.quantity(index));
      headers.set(X_RATELIMIT_REMAINING_NAME, LimitTemplates.number(remaining));
      headers.set(X_RATELIMIT_RESET_NAME, LimitTemplates.number(resetSeconds));
    }
  }

  /**
   * The {@code RateLimit-Policy} value for every limit of {@code policy}, e.g.
   * {@code "login/1";q=5;w=60, "login/2";q=20;w=3600}.
   */
  static String policyField(Policy policy) {
    List<Limit> limits = policy.limits();
    StringBuilder sb = new StringBuilder(32 * limits.size());
    for (int i = 0; i < limits.size(); i++) {
      Limit limit = limits.get(i);
      if (i > 0) {
        sb.append(", ");
      }
      appendSfString(sb, policy.itemName(i));
      sb.append(";q=").append(limit.quantity());
      // Every unit of the grammar is a whole number of seconds; round up any other period so
      // the advertised window is never shorter than the real one.
      sb.append(";w=").append(ceilSeconds(limit.periodNanos()));
      if (limit.burst() != limit.quantity()) {
        sb.append(";sluice-burst=").append(limit.burst());
      }
    }
    return sb.toString();
  }

  /** The {@code RateLimit} value for one item, e.g. {@code "login/1";r=0;t=12}. */
  static String rateLimitField(String itemName, long remaining, long resetSeconds) {
    StringBuilder sb = new StringBuilder(itemName.length() + 24);
    appendSfString(sb, itemName);
    sb.append(";r=").append(Math.max(0, remaining)).append(";t=").append(Math.max(0, resetSeconds));
    return sb.toString();
  }

  /**
   * Appends {@code value} as an RFC 9651 sf-string: quoted, with {@code "} and {@code \} escaped.
   * An sf-string may only hold printable ASCII (%x20-7E); any other character, which the policy
   * name grammar should already exclude, becomes {@code ?} so the field stays parseable rather
   * than being dropped.
   */
  static void appendSfString(StringBuilder sb, String value) {
    sb.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20 || c > 0x7e) {
        sb.append('?');
      } else {
        sb.append(c);
      }
    }
    sb.append('"');
  }

  /** Whole seconds, rounded up; 0 stays 0. */
  static long ceilSeconds(long nanos) {
    if (nanos <= 0) {
      return 0;
    }
    return (nanos - 1) / NANOS_PER_SECOND + 1;
  }
}
