package dev.sluice.gateway.accesslog;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.sluice.engine.Decision;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.event.OutcomeWords;
import dev.sluice.gateway.jsonlines.JsonLinesWriter;
import dev.sluice.identity.ClientAddress;
import dev.sluice.identity.Identity;
import dev.sluice.request.RequestView;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The access log (SPEC §10, {@code access_log:}): one JSON line per decided request, keys in this
 * order (the contract with {@code sluice replay} and {@code sluice tune}):
 *
 * <pre>{@code
 * {"time":"2026-12-05T17:20:00.123Z","via":"gateway","method":"POST","path":"/auth/login",
 *  "client_ip":"10.0.0.1","identities":{"ip":"10.0.0.1","api_key":"k:3fa9c2d1e0b4"},
 *  "policies":["login","api"],"outcome":"limited","policy":"login","status":429,"upstream_ms":null}
 * }</pre>
 *
 * <ul>
 *   <li>{@code time}: the decision time, RFC 3339 UTC with milliseconds;
 *   <li>{@code via}: {@code gateway} or {@code decision} (the decision API);
 *   <li>{@code path}: normalised, without the query string (which may carry an API key);
 *   <li>{@code client_ip}: after the trusted-proxy walk;
 *   <li>{@code identities}: {@code by:} entry → value as the core resolved it (API keys, tokens,
 *       cookies, header and body values already a short hash, never raw); kinds that resolved to
 *       nothing are absent;
 *   <li>{@code policies}: every applied policy in file order ({@code default} when none matched);
 *   <li>{@code outcome}: see {@link #outcome(Decision, boolean)};
 *   <li>{@code policy}: the policy that refused, banned or shadow-limited, else {@code null};
 *   <li>{@code status}: what the client got; {@code upstream_ms}: from forwarding the request to the
 *       upstream's response head (or to the gateway giving up on it), 3 decimals, {@code null} when
 *       the request was not sent upstream.
 * </ul>
 *
 * <p>Non-blocking: {@link #log} copies a few references into an immutable {@link Line} and hands
 * it to a {@link JsonLinesWriter} (bounded queue, one writer thread; lines that do not fit are
 * dropped and counted in {@link #dropped()}, {@code sluice_access_log_dropped_total}). {@link
 * #reopen()} reopens the file on {@code SIGUSR1} for logrotate. Thread-safe.
 */
public final class AccessLog implements AutoCloseable {
  /** {@code via} of lines from the gateway's proxy. */
  public static final String VIA_GATEWAY = "gateway";
  /** {@code via} of lines from the decision API. */
  public static final String VIA_DECISION = "decision";
  /** {@code upstreamNanos} of a request that was not sent upstream. */
  public static final long NOT_FORWARDED = -1;

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private final JsonLinesWriter<Line> lines;
  private final InstantSource wallClock;

  /**
   * One line, as written (see the class comment for each field).
   *
   * @param identities kind → value (secrets already hashed), in policy order; not copied
   * @param policies applied policy names, file order; not copied
   * @param policy the refusing or shadow-limiting policy, or null
   * @param upstreamNanos time spent on the upstream, or {@link #NOT_FORWARDED}
   */
  public record Line(Instant time, String via, String method, String path, String clientIp,
      Map<String, String> identities, List<String> policies, String outcome, String policy, int status,
      long upstreamNanos) {}

  /**
   * Opens the access log named in the policy file.
   *
   * @param target {@code access_log}: a file path (appended to, created if missing), {@code "-"}
   *     for standard output, or empty for none (every call then does nothing)
   * @throws UncheckedIOException when the file cannot be opened for appending (names the path)
   */
  public static AccessLog open(Optional<String> target) {
    return new AccessLog(JsonLinesWriter.open("access log", "access_log", target, AccessLog::write),
        InstantSource.system());
  }

  /** An access log writing to {@code out} (tests and embedding); {@code out} is only flushed on close. */
  public static AccessLog to(Writer out, InstantSource wallClock, int capacity) {
    return new AccessLog(new JsonLinesWriter<>("access log", out, false, null, capacity, AccessLog::write), wallClock);
  }

  private AccessLog(JsonLinesWriter<Line> lines, InstantSource wallClock) {
    this.lines = lines;
    this.wallClock = wallClock;
  }

  /** Whether {@code access_log} is set (when not, callers may skip collecting fields). */
  public boolean enabled() {
    return lines.enabled();
  }

  /** The wall clock the {@code time} field is read from (callers take the decision time from it). */
  public InstantSource wallClock() {
    return wallClock;
  }

  /**
   * Logs one decided request. Non-blocking; call it once the status the client gets is known.
   *
   * @param via {@link #VIA_GATEWAY} or {@link #VIA_DECISION}
   * @param decidedAt when the decision was made (from {@link #wallClock()})
   * @param request the request as the engine saw it (method, normalised path, peer)
   * @param decision the engine's decision, or null when deciding failed (outcome {@code error})
   * @param shed whether the request was refused by {@code gateway.max_inflight} after an allow
   * @param status the status the client got (for the decision API: the decision's status)
   * @param upstreamNanos time spent on the upstream, or {@link #NOT_FORWARDED}
   */
  public void log(String via, Instant decidedAt, RequestView request, Decision decision, boolean shed, int status,
      long upstreamNanos) {
    if (!lines.enabled()) {
      return;
    }
    lines.offer(line(via, decidedAt, request, decision, shed, status, upstreamNanos));
  }

  /** Logs a line built elsewhere (non-blocking). */
  public void log(Line line) {
    lines.offer(line);
  }

  /** The line {@link #log(String, Instant, RequestView, Decision, boolean, int, long)} writes. */
  public static Line line(String via, Instant decidedAt, RequestView request, Decision decision, boolean shed,
      int status, long upstreamNanos) {
    Map<String, String> identities = new LinkedHashMap<>(4);
    List<String> policies = new ArrayList<>(2);
    String clientIp = null;
    String policy = null;
    if (decision != null) {
      for (PolicyDecision pd : decision.policies()) {
        policies.add(pd.policy().name());
        Identity identity = pd.identity();
        if (identity != null) {
          identities.putIfAbsent(identity.spec().toString(), identity.value());
        }
      }
      if (decision.client() != null && decision.client().client() != null) {
        clientIp = decision.client().clientText();
      }
      policy = refusingPolicy(decision, shed);
    }
    if (clientIp == null) {
      InetAddress peer = request.peerAddress();
      clientIp = peer == null ? null : ClientAddress.canonicalText(peer);
    }
    return new Line(decidedAt, via, request.method(), request.path(), clientIp, identities, policies,
        outcome(decision, shed), policy, status, upstreamNanos);
  }

  /**
   * The {@code outcome} of a request: {@code shed} when {@code gateway.max_inflight} refused it
   * after the engine allowed it; {@code blocked} for a {@code block:} rule (403); {@code banned}
   * for a banned identity; {@code limited}; {@code error} when the store failed (answered per
   * {@code on_error}: a 503 under {@code deny}, forwarded under {@code allow}), when the memory
   * store was full for a new identity (503), or when the decision itself failed (null decision,
   * 503); {@code exempt} for an {@code exempt:} client; {@code shadow_limited} when allowed but a
   * shadow policy would have refused; else {@code allowed}.
   */
  public static String outcome(Decision decision, boolean shed) {
    if (decision == null) {
      return "error";
    }
    if (shed) {
      return "shed";
    }
    return OutcomeWords.of(decision);
  }

  private static String refusingPolicy(Decision decision, boolean shed) {
    if (shed) {
      return null;
    }
    switch (decision.outcome()) {
      case LIMITED, BLOCKED, UNAVAILABLE:
        return decision.denying().map(pd -> pd.policy().name()).orElse(null);
      case ALLOWED:
        for (PolicyDecision pd : decision.policies()) {
          if (pd.shadow() && !pd.allowed() && !pd.storeError()) {
            return pd.policy().name();
          }
        }
        return null;
      default:
        return null;
    }
  }

  /**
   * Opens the file again by its path (logrotate, {@code SIGUSR1}); returns at once.
   *
   * @return whether there was a file to reopen
   */
  public boolean reopen() {
    return lines.reopen();
  }

  /** Lines dropped because the writer could not keep up (or failed). */
  public long dropped() {
    return lines.dropped();
  }

  /** Lines written so far. */
  public long written() {
    return lines.written();
  }

  /** Writes what is queued, flushes and closes the file. Idempotent. */
  @Override
  public void close() {
    lines.close();
  }

  private static void write(JsonGenerator json, Line line) throws IOException {
    json.writeStartObject();
    json.writeStringField("time", TIME.format(line.time()));
    json.writeStringField("via", line.via());
    json.writeStringField("method", line.method());
    json.writeStringField("path", line.path());
    json.writeStringField("client_ip", line.clientIp());
    json.writeObjectFieldStart("identities");
    for (Map.Entry<String, String> e : line.identities().entrySet()) {
      json.writeStringField(e.getKey(), e.getValue());
    }
    json.writeEndObject();
    json.writeArrayFieldStart("policies");
    for (String policy : line.policies()) {
      json.writeString(policy);
    }
    json.writeEndArray();
    json.writeStringField("outcome", line.outcome());
    json.writeStringField("policy", line.policy());
    json.writeNumberField("status", line.status());
    if (line.upstreamNanos() < 0) {
      json.writeNullField("upstream_ms");
    } else {
      // Three decimals, as a JSON number (1234567 ns → 1.235).
      json.writeNumberField("upstream_ms", java.math.BigDecimal.valueOf(line.upstreamNanos(), 6)
          .setScale(3, java.math.RoundingMode.HALF_UP));
    }
    json.writeEndObject();
  }
}
