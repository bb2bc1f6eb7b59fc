package dev.sluice.gateway.audit;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.sluice.engine.Decision;
import dev.sluice.engine.Outcome;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.event.DecisionListener;
import dev.sluice.gateway.jsonlines.JsonLinesWriter;
import dev.sluice.identity.ClientAddress;
import dev.sluice.identity.Identity;
import dev.sluice.request.RequestView;
import dev.sluice.store.Consumption;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.time.Instant;
import java.time.InstantSource;
import java.time.format.DateTimeFormatter;
import java.util.Optional;

/**
 * The audit log (SPEC §6): one JSON line per policy that limited, shadow-limited or blocked a
 * request, with the fields {@code time} (RFC 3339, UTC), {@code policy}, {@code limit} (as written),
 * {@code outcome}, {@code identity_kind} (the {@code by:} entry, e.g. {@code api_key} or
 * {@code header:X-Tenant}), {@code identity} (as the core resolved it: API keys, tokens, cookies
 * and header values are already a short hash, never raw), {@code client_ip}, {@code method},
 * {@code path} (normalised, without the query string, which may carry an API key) and
 * {@code retry_after} (seconds until that policy would admit the request; for a banned identity
 * the remaining ban). A request refused by {@code block:} (403) is one line with {@code policy}
 * {@code ""}, outcome {@code blocked}, no identity and {@code retry_after} 0 (the block does not
 * expire).
 *
 * <p>Design: {@link #onDecision} runs on an event loop, so it only copies the few fields it needs
 * into an entry and hands it to a {@link JsonLinesWriter} (bounded queue, one writer thread,
 * dropped and counted in {@link #dropped()} when full, reopened on {@code SIGUSR1} for logrotate).
 */
public final class AuditLog implements DecisionListener, AutoCloseable {

  /** Entries that may wait for the writer before new ones are dropped. */
  public static final int DEFAULT_CAPACITY = JsonLinesWriter.DEFAULT_CAPACITY;

  private final JsonLinesWriter<Entry> lines;
  private final InstantSource wallClock;

  /**
   * Opens the audit log named in the policy file.
   *
   * @param target {@code audit_log}: a file path (appended to, created if missing), {@code "-"}
   *     for standard output, or empty for no audit log (a listener that does nothing)
   * @throws UncheckedIOException when the file cannot be opened for appending (message names the path)
   */
  public static AuditLog open(Optional<String> target) {
    return new AuditLog(JsonLinesWriter.open("audit log", "audit_log", target, AuditLog::write), InstantSource.system());
  }

  /**
   * Opens the audit file again by its path, for log rotation: lines decided before this call go
   * to the old file, later ones to the file now at the path. Returns at once; the writer thread
   * does the work. Does nothing for standard output or a closed log.
   *
   * @return whether a reopen was queued (false for standard output, no audit log, or a closed log)
   */
  public boolean reopen() {
    return lines.reopen();
  }

  /**
   * An audit log writing to {@code out} (for tests and embedding).
   *
   * @param out where lines go, or null for a no-op log
   * @param closeOut whether {@link #close()} closes {@code out} (else it only flushes it)
   * @param wallClock source of the {@code time} field
   * @param capacity entries that may be queued before new ones are dropped
   */
  AuditLog(Writer out, boolean closeOut, InstantSource wallClock, int capacity) {
    this(new JsonLinesWriter<>("audit log", out, closeOut, null, capacity, AuditLog::write), wallClock);
  }

  /**
   * An audit log writing to the file at {@code path}, already opened as {@code out}; {@link
   * #reopen()} opens the path again (package-private for tests).
   */
  AuditLog(Writer out, String path, InstantSource wallClock, int capacity) {
    this(new JsonLinesWriter<>("audit log", out, true, path, capacity, AuditLog::write), wallClock);
  }

  private AuditLog(JsonLinesWriter<Entry> lines, InstantSource wallClock) {
    this.lines = lines;
    this.wallClock = wallClock;
  }

  /** Whether this log writes anything ({@code audit_log} was set). */
  public boolean enabled() {
    return lines.enabled();
  }

  @Override
  public void onDecision(RequestView request, Decision decision, long decisionNanos) {
    if (!lines.enabled()) {
      return;
    }
    if (decision.outcome() == Outcome.FORBIDDEN) {
      offer(new Entry(wallClock.instant(), "", null, "blocked", null, null, clientIp(decision),
          request.method(), request.path(), 0));
      return;
    }
    Instant now = null;
    for (PolicyDecision pd : decision.policies()) {
      String outcome = pd.outcomeLabel();
      if (outcome.equals("allowed")) {
        continue;
      }
      if (now == null) {
        now = wallClock.instant();
      }
      offer(new Entry(now, pd.policy().name(), limitText(pd), outcome, identityKind(pd.identity()),
          pd.identity() == null ? null : pd.identity().value(), clientIp(decision), request.method(),
          request.path(), pd.blocked() ? ceilSeconds(pd.retryAfterNanos()) : retryAfterSeconds(pd.consumption())));
    }
  }

  /**
   * Records a request refused by a {@code block:} rule or a ban ({@code outcome="blocked"}).
   * Non-blocking, like {@link #onDecision}.
   *
   * @param policy the banning policy, or {@code ""} for a {@code block:} rule
   * @param identity the identity that was refused (already hashed if secret), or null
   * @param clientIp the client address
   * @param retryAfterSeconds remaining ban in seconds, 0 for a permanent block
   */
  public void blocked(String policy, Identity identity, InetAddress clientIp, RequestView request, long retryAfterSeconds) {
    if (!lines.enabled()) {
      return;
    }
    offer(new Entry(wallClock.instant(), policy, null, "blocked", identityKind(identity),
        identity == null ? null : identity.value(), clientIp == null ? null : ClientAddress.canonicalText(clientIp),
        request.method(), request.path(), retryAfterSeconds));
  }

  /** Entries dropped because the writer could not keep up (or failed). */
  public long dropped() {
    return lines.dropped();
  }

  /** Lines written so far. */
  public long written() {
    return lines.written();
  }

  /**
   * Writes every queued entry, flushes, stops the writer and closes the file (standard output is
   * only flushed). Waits at most a few seconds for the writer. Idempotent.
   */
  @Override
  public void close() {
    lines.close();
  }

  private void offer(Entry entry) {
    lines.offer(entry);
  }

  private static void write(JsonGenerator json, Entry entry) throws IOException {
    json.writeStartObject();
    json.writeStringField("time", DateTimeFormatter.ISO_INSTANT.format(entry.time()));
    json.writeStringField("policy", entry.policy());
    json.writeStringField("limit", entry.limit());
    json.writeStringField("outcome", entry.outcome());
    json.writeStringField("identity_kind", entry.identityKind());
    json.writeStringField("identity", entry.identity());
    json.writeStringField("client_ip", entry.clientIp());
    json.writeStringField("method", entry.method());
    json.writeStringField("path", entry.path());
    json.writeNumberField("retry_after", entry.retryAfter());
    json.writeEndObject();
  }

  private static String limitText(PolicyDecision pd) {
    int index = pd.limitIndex();
    return index >= 0 && index < pd.policy().limits().size() ? pd.policy().limits().get(index).text() : null;
  }

  private static String identityKind(Identity identity) {
    return identity == null ? null : identity.spec().toString();
  }

  private static String clientIp(Decision decision) {
    return decision.client() == null || decision.client().client() == null
        ? null : decision.client().clientText();
  }

  private static long retryAfterSeconds(Consumption consumption) {
    return consumption == null ? 0 : ceilSeconds(consumption.retryAfterNanos());
  }

  private static long ceilSeconds(long nanos) {
    return nanos <= 0 ? 0 : (nanos - 1) / 1_000_000_000L + 1;
  }

  /** What one line needs, copied off the request so the writer never touches a live request. */
  private record Entry(Instant time, String policy, String limit, String outcome, String identityKind,
      String identity, String clientIp, String method, String path, long retryAfter) {}
}
