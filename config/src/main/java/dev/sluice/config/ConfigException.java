package dev.sluice.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A policy file is invalid. Carries every problem found (not only the first), sorted by position.
 */
public final class ConfigException extends Exception {

  private static final long serialVersionUID = 1L;

  private final transient List<ConfigError> errors;

  /**
   * @param errors at least one error
   * @throws IllegalArgumentException if {@code errors} is empty
   */
  public ConfigException(List<ConfigError> errors) {
    super(errors.stream().map(ConfigError::toString).collect(Collectors.joining("\n")));
    if (errors.isEmpty()) {
      throw new IllegalArgumentException("a ConfigException needs at least one error");
    }
    this.errors = List.copyOf(errors);
  }

  /** Every problem, sorted by line then column; never empty. */
  public List<ConfigError> errors() {
    return errors;
  }
}
