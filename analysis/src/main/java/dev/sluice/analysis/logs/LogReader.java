package dev.sluice.analysis.logs;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;

/**
 * Streams a log file (plain, or gzip when the name ends in {@code .gz}) through a {@link
 * LineParser}, one line at a time: memory does not depend on the file's length. Malformed lines
 * are counted, the first {@value #KEPT_PROBLEMS} kept with their line numbers, and skipped.
 * Not thread-safe; one reader per pass.
 */
public final class LogReader {
  /** How many malformed lines are reported by number and reason. */
  public static final int KEPT_PROBLEMS = 10;

  private final LineParser parser;
  private long lines;
  private long requests;
  private long malformed;
  private final List<String> problems = new ArrayList<>();

  public LogReader(LineParser parser) {
    this.parser = parser;
  }

  /**
   * Reads {@code file} to its end, giving each request to {@code sink} in file order.
   *
   * @throws IOException when the file cannot be read (not for a malformed line)
   */
  public void read(Path file, Consumer<LogLine> sink) throws IOException {
    try (InputStream raw = Files.newInputStream(file);
        InputStream in = file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16)) {
      String text;
      while ((text = reader.readLine()) != null) {
        lines++;
        LogLine line;
        try {
          line = parser.parse(lines, text);
        } catch (MalformedLineException e) {
          malformed++;
          if (problems.size() < KEPT_PROBLEMS) {
            problems.add(file.getFileName() + ":" + lines + ": " + e.getMessage());
          }
          continue;
        }
        if (line != null) {
          requests++;
          sink.accept(line);
        }
      }
    }
  }

  /** Lines read. */
  public long lines() {
    return lines;
  }

  /** Lines that were requests. */
  public long requests() {
    return requests;
  }

  /** Lines skipped as malformed. */
  public long malformed() {
    return malformed;
  }

  /** The first malformed lines, as {@code file:line: reason}. */
  public List<String> problems() {
    return List.copyOf(problems);
  }
}
