package dev.sluice.gateway.jsonlines;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded, asynchronous JSON-lines file writer shared by the audit log and the access log: one
 * JSON object per line, UTF-8, {@code \n}-terminated.
 *
 * <p>Design: {@link #offer} runs on an event loop, so it only puts the caller's entry (a small
 * immutable record) into a bounded queue; one daemon thread serialises and writes. When the queue
 * is full the entry is dropped and counted ({@link #dropped()}) instead of blocking a request: a
 * slow or stalled disk never stalls the gateway. The writer flushes whenever the queue runs empty
 * and on {@link #close()}.
 *
 * <p>Log rotation: {@link #reopen()} (the cli calls it on {@code SIGUSR1}) queues a marker; the
 * writer thread, which alone touches the file, opens the path again (a new file once logrotate
 * has renamed the old one) and only then closes the old file, so no line is lost or split.
 *
 * @param <E> what one line is made of
 */
public final class JsonLinesWriter<E> implements AutoCloseable {

  /** Serialises one entry as one JSON object (the writer adds the newline). */
  @FunctionalInterface
  public interface Format<E> {
    void write(JsonGenerator json, E entry) throws IOException;
  }

  /** Entries that may wait for the writer before new ones are dropped. */
  public static final int DEFAULT_CAPACITY = 16_384;

  private static final Logger LOG = LoggerFactory.getLogger(JsonLinesWriter.class);
  private static final JsonFactory JSON = new JsonFactory();
  private static final Object POISON = new Object();
  private static final Object REOPEN = new Object();

  private final String name;
  private final Format<E> format;
  private final BlockingQueue<Object> queue;
  /** Written only by the writer thread (and read by {@link #close()} after joining it). */
  private Writer out;
  /** The file to open again on {@link #reopen()}; null for standard output or a test writer. */
  private final String path;
  private final boolean enabled;
  private final boolean closeOut;
  private final Thread writer;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean writeFailureReported = new AtomicBoolean();

  /**
   * Opens the log named in the policy file.
   *
   * @param name how log messages name it ("audit log")
   * @param key its policy-file key ("audit_log"), for the error message
   * @param target a file path (appended to, created if missing), {@code "-"} for standard output,
   *     or empty for no log (a writer that drops nothing and writes nothing)
   * @throws UncheckedIOException when the file cannot be opened for appending (message names the path)
   */
  public static <E> JsonLinesWriter<E> open(String name, String key, Optional<String> target, Format<E> format) {
    if (target.isEmpty()) {
      return new JsonLinesWriter<>(name, null, false, null, 1, format);
    }
    String path = target.get();
    if (path.equals("-")) {
      return new JsonLinesWriter<>(name, new OutputStreamWriter(System.out, StandardCharsets.UTF_8), false, null,
          DEFAULT_CAPACITY, format);
    }
    OutputStream stream;
    try {
      stream = new FileOutputStream(path, true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open " + key + " \"" + path + "\" for appending: " + e.getMessage(), e);
    }
    return new JsonLinesWriter<>(name, new OutputStreamWriter(stream, StandardCharsets.UTF_8), true, path,
        DEFAULT_CAPACITY, format);
  }

  /**
   * A writer to {@code out}.
   *
   * @param name how log messages name it
   * @param out where lines go, or null for a no-op writer
   * @param closeOut whether {@link #close()} closes {@code out} (else it only flushes it)
   * @param path the file {@link #reopen()} opens again, or null (standard output, tests)
   * @param capacity entries that may be queued before new ones are dropped
   */
  public JsonLinesWriter(String name, Writer out, boolean closeOut, String path, int capacity, Format<E> format) {
    this.name = Objects.requireNonNull(name, "name");
    this.format = Objects.requireNonNull(format, "format");
    this.path = path;
    this.out = out;
    this.enabled = out != null;
    this.closeOut = closeOut;
    this.queue = new ArrayBlockingQueue<>(Math.max(1, capacity));
    if (out == null) {
      this.writer = null;
    } else {
      this.writer = new Thread(this::drain, "sluice-" + name.replace(' ', '-') + "-writer");
      writer.setDaemon(true);
      writer.start();
    }
  }

  /** Whether this writer writes anything (its key was set). */
  public boolean enabled() {
    return enabled;
  }

  /**
   * Queues one line. Never blocks: when the queue is full the entry is dropped and counted.
   *
   * @return whether it was queued
   */
  public boolean offer(E entry) {
    if (!enabled || closed.get()) {
      return false;
    }
    if (!queue.offer(entry)) {
      dropped.incrementAndGet();
      return false;
    }
    return true;
  }

  /**
   * Opens the file again by its path, for log rotation: lines queued before this call go to the
   * old file, later ones to the file now at the path. Returns at once; the writer thread does the
   * work. Does nothing for standard output or a closed writer.
   *
   * @return whether a reopen was queued (false for standard output, no log, or a closed log)
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
      LOG.warn("closing the {} failed: {}", name, e.toString());
    }
  }

  @SuppressWarnings("unchecked")
  private void drain() {
    try {
      while (true) {
        Object entry = queue.poll();
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
        write((E) entry);
      }
    } catch (InterruptedException e) {
      flush();
    }
  }

  private void write(E entry) {
    try {
      JsonGenerator json = JSON.createGenerator(out);
      json.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
      json.disable(JsonGenerator.Feature.FLUSH_PASSED_TO_STREAM);
      format.write(json, entry);
      json.close();
      out.write('\n');
      written.incrementAndGet();
    } catch (IOException | RuntimeException e) {
      dropped.incrementAndGet();
      if (writeFailureReported.compareAndSet(false, true)) {
        LOG.error("writing the {} failed ({}); further failures are only counted", name, e.toString());
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
      LOG.error("reopening the {} \"{}\" failed ({}); still writing to the file opened before", name, path,
          e.toString());
      return;
    }
    Writer previous = out;
    out = next;
    try {
      previous.close();
    } catch (IOException e) {
      LOG.warn("closing the rotated {} failed: {}", name, e.toString());
    }
    LOG.info("{} reopened: {}", name, path);
  }

  private void flush() {
    try {
      out.flush();
    } catch (IOException e) {
      if (writeFailureReported.compareAndSet(false, true)) {
        LOG.error("flushing the {} failed ({}); further failures are only counted", name, e.toString());
      }
    }
  }
}
