package dev.sluice.limit;

/**
 * A limit text that does not follow the limit grammar. The message names the offending token and
 * what was expected; {@link #column()} points at it so the configuration layer can report
 * {@code file:line:column}.
 */
public final class LimitSyntaxException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final int column;

  /**
   * @param message the complete, user-facing message
   * @param column 0-based offset in the limit text where the problem is
   */
  public LimitSyntaxException(String message, int column) {
    super(message);
    this.column = column;
  }

  /** The 0-based offset in the limit text where the problem is. */
  public int column() {
    return column;
  }
}
