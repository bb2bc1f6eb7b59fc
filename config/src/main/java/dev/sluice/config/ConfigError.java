package dev.sluice.config;

import java.util.Objects;

/**
 * One problem in a policy file.
 *
 * @param file the file name as given to the loader
 * @param line 1-based line, or 0 when the problem concerns the whole file (e.g. it cannot be read)
 * @param column 1-based column, or 0 together with {@code line == 0}
 * @param message what is wrong, the offending value and what was expected
 */
public record ConfigError(String file, int line, int column, String message) {

  public ConfigError {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(message, "message");
    if (line < 0 || column < 0) {
      throw new IllegalArgumentException("line and column must not be negative: " + line + ":" + column);
    }
  }

  /** {@code file:line:column: message}, or {@code file: message} for a whole-file problem. */
  @Override
  public String toString() {
    return line == 0 ? file + ": " + message : file + ":" + line + ":" + column + ": " + message;
  }
}
