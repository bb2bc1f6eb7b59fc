package dev.sluice.analysis.logs;

/** Parses one line of one log format. Implementations are not thread-safe (they reuse buffers). */
public interface LineParser {

  /**
   * The request on {@code text}, or {@code null} for a line that is not a request but not wrong
   * either (blank).
   *
   * @throws MalformedLineException when the line does not fit the format (says what is wrong)
   */
  LogLine parse(long lineNumber, String text) throws MalformedLineException;
}
