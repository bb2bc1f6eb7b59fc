package dev.sluice.policy;

import java.util.Objects;

/**
 * A policy or policy set that cannot be built, with the config path of the offending node so the
 * YAML layer can report {@code file:line:column}.
 *
 * <p>Paths use the policy file's key names: {@link PolicySet.Builder} reports full paths such as
 * {@code policies[2].name} or {@code defaults.limits}; {@link Policy.Builder} does not know where
 * its policy sits in the file and reports paths relative to the policy ({@code cost},
 * {@code match.paths[1]}); the caller places them with {@link #under(String)}.
 */
public class PolicyConfigException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String path;

  /**
   * @param path the config path of the offending node, e.g. {@code policies[2].cost}
   * @param message what is wrong, the offending value and what was expected
   */
  public PolicyConfigException(String path, String message) {
    super(message);
    this.path = Objects.requireNonNull(path, "path");
  }

  /** The config path of the offending node, e.g. {@code policies[2].cost} or {@code cost}. */
  public String path() {
    return path;
  }

  /**
   * The same error placed under {@code prefix}: {@code under("policies[2]")} turns the path
   * {@code cost} into {@code policies[2].cost}. The message is kept.
   */
  public PolicyConfigException under(String prefix) {
    PolicyConfigException placed =
        new PolicyConfigException(path.isEmpty() ? prefix : prefix + "." + path, getMessage());
    placed.initCause(getCause());
    placed.setStackTrace(getStackTrace());
    return placed;
  }
}
