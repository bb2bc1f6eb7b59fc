package dev.sluice.gateway.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.sluice.engine.Decision;
import dev.sluice.engine.Outcome;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.event.DecisionListener;
import dev.sluice.identity.Identity;
import dev.sluice.request.RequestView;
import dev.sluice.store.Consumption;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * into an entry and offers it to a bounded queue; one daemon thread serialises and writes. When
 * the queue is full the entry is dropped and counted ({@link #dropped()}) instead of blocking a
 * request. The writer flushes whenever the queue runs empty and on {@link #close()}.
 *
 * <p>Log rotation: {@link #reopen()} (the cli calls it on {@code SIGUSR1}) queues a marker; the
 * writer thread, which alone touches the file, opens the path again (a new file once logrotate
 * has renamed the old one) and only then closes the old file, so no line is lost or split.
 */
public final class AuditLog implements DecisionListener, AutoCloseable {

  /** Entries that may wait for the writer before new ones are dropped. */
  public static final int DEFAULT_CAPACITY = 16_384;

  private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
  private static final JsonFactory JSON = new JsonFactory();
  private static final Entry POISON = new Entry(null, null, null, null, null, null, null, null, null, 0);
  private static final Entry REOPEN = new Entry(null, null, null, null, null, null, null, null, null, 0);

  private final BlockingQueue<Entry> queue;
  /** Written only by the writer thread (and read by {@link #close()} after joining it). */
  private Writer out;
  /** The file to open again on {@link #reopen()}; null for standard output or a test writer. */
  private final String path;
  private final boolean enabled;
  private final boolean closeOut;
  private final InstantSource wallClock;
  private final Thread writer;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean writeFailureReported = new AtomicBoolean();

  /**
   * Opens the audit log named in the policy file.
   *
   * @param target {@code audit_log}: a file path (appended to, created if missing), {@code "-"}
   *     for standard output, or empty for no audit log (a listener that does nothing)
   * @throws UncheckedIOException when the file cannot be opened for appending (message names the path)
   */
  public static AuditLog open(Optional<String> target) {
    if (target.isEmpty()) {
      return new AuditLog(null, false, InstantSource.system(), 1);
    }
    String path = target.get();
    if (path.equals("-")) {
      return new AuditLog(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), false,
          InstantSource.system(), DEFAULT_CAPACITY);
    }
    OutputStream stream;
    try {
      stream = new FileOutputStream(path, true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open audit_log \"" + path + "\" for appending: " + e.getMessage(), e);
    }
    return new AuditLog(new OutputStreamWriter(stream, StandardCharsets.UTF_8), path, InstantSource.system(),
        DEFAULT_CAPACITY);
  }

  /**
   * Opens the audit file again by its path, for log rotation: lines decided before this call go
   * to the old file, later ones to the file now at the path. Returns at once; the writer thread
   * does the work. Does nothing for standard output or a closed log.
   *
   * @return whether a reopen was queued (false for standard output, no audit log, or a closed log)
   */
  public boolean reopen() {
    if (path == null || closed.get()) {
      return false;
    }
    try {
      // Unlike entries, the marker must not be dropped; the writer keeps draining, so this is short.
      return queue.offer(REOPEN, 5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
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
    this(out, closeOut, null, wallClock, capacity);
  }

  /**
   * An audit log writing to the file at {@code path}, already opened as {@code out}; {@link
   * #reopen()} opens the path again (package-private for tests).
   */
  AuditLog(Writer out, String path, InstantSource wallClock, int capacity) {
    this(out, true, path, wallClock, capacity);
  }

  private AuditLog(Writer out, boolean closeOut, String path, InstantSource wallClock, int capacity) {
    this.path = path;
    this.out = out;
    this.enabled = out != null;
    this.closeOut = closeOut;
    this.wallClock = wallClock;
    this.queue = new ArrayBlockingQueue<>(Math.max(1, capacity));
    if (out == null) {
      this.writer = null;
    } else {
      this.writer = new Thread(this::drain, "sluice-audit-writer");
      writer.setDaemon(true);
      writer.start();
    }
  }

  /** Whether this log writes anything ({@code audit_log} was set). */
  public boolean enabled() {
    return enabled;
  }

  @Override
  public void onDecision(RequestView request, Decision decision, long decisionNanos) {
    if (!enabled || closed.get()) {
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
    if (!enabled || closed.get()) {
      return;
    }
    offer(new Entry(wallClock.instant(), policy, null, "blocked", identityKind(identity),
        identity == null ? null : identity.value(), clientIp == null ? null : clientIp.getHostAddress(),
        request.method(), request.path(), retryAfterSeconds));
  }

  /** Entries dropped because the writer could not keep up (or failed). */
  public long dropped() {
    return dropped.get();
  }

  /** Lines written so far. */
  public long written() {
    return written.get();
  }

  /**
   * Writes every queued entry, flushes, stops the writer and closes the file (standard output is
   * only flushed). Waits at most a few seconds for the writer. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true) || writer == null) {
      return;
    }
    try {
      // The writer keeps draining, so this wait is bounded by the queue length.
      if (!queue.offer(POISON, 5, TimeUnit.SECONDS)) {
        writer.interrupt();
      }
      writer.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      if (closeOut) {
        out.close();
      } else {
        out.flush();
      }
    } catch (IOException e) {
      LOG.warn("closing the audit log failed: {}", e.toString());
    }
  }

  private void offer(Entry entry) {
    if (!queue.offer(entry)) {
      dropped.incrementAndGet();
    }
  }

  private void drain() {
    try {
      while (true) {
        Entry entry = queue.poll();
        if (entry == null) {
          flush();
          entry = queue.take();
        }
        if (entry == POISON) {
          flush();
          return;
        }
        if (entry == REOPEN) {
          reopenFile();
          continue;
        }
        write(entry);
      }
    } catch (InterruptedException e) {
      flush();
    }
  }

  private void write(Entry entry) {
    try {
      JsonGenerator json = JSON.createGenerator(out);
      json.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
      json.disable(JsonGenerator.Feature.FLUSH_PASSED_TO_STREAM);
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
      json.close();
      out.write('\n');
      written.incrementAndGet();
    } catch (IOException e) {
      dropped.incrementAndGet();
      if (writeFailureReported.compareAndSet(false, true)) {
        LOG.error("writing the audit log failed ({}); further failures are only counted", e.toString());
      }
    }
  }

  /** On the writer thread: the new file first, so a failure keeps writing to the old one. */
  private void reopenFile() {
    flush();
    Writer next;
    try {
      next = new OutputStreamWriter(new FileOutputStream(path, true), StandardCharsets.UTF_8);
    } catch (IOException e) {
      LOG.error("reopening the audit log \"{}\" failed ({}); still writing to the file opened before", path,
          e.toString());
      return;
    }
    Writer previous = out;
    out = next;
    try {
      previous.close();
    } catch (IOException e) {
      LOG.warn("closing the rotated audit log failed: {}", e.toString());
    }
    LOG.info("audit log reopened: {}", path);
  }

  private void flush() {
    try {
      out.flush();
    } catch (IOException e) {
      if (writeFailureReported.compareAndSet(false, true)) {
        LOG.error("flushing the audit log failed ({}); further failures are only counted", e.toString());
      }
    }
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
        ? null : decision.client().client().getHostAddress();
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
