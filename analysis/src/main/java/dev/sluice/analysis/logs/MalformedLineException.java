package dev.sluice.analysis.logs;

/** A line that is not a request of the log's format; the message says what is wrong. */
public final class MalformedLineException extends Exception {
  private static final long serialVersionUID = 1L;

  public MalformedLineException(String message) {
    super(message, null, false, false);
  }
}
