package dev.sluice.policy;

/** Whether a policy's decisions are enforced or only observed ({@code mode:} in the policy file). */
public enum Mode {
  /** Over-limit requests are refused (429). The default. */
  ENFORCE("enforce"),
  /**
   * The policy is decided exactly as if enforced (its own buckets are consumed so its counts are
   * faithful) and reported as {@code shadow_limited}, but it never refuses a request and never
   * contributes rate-limit headers.
   */
  SHADOW("shadow");

  private final String configName;

  Mode(String configName) {
    this.configName = configName;
  }

  /** The name used in the policy file: {@code enforce} or {@code shadow}. */
  public String configName() {
    return configName;
  }

  /**
   * The mode named {@code name} in the policy file.
   *
   * @throws IllegalArgumentException when {@code name} is not {@code enforce} or {@code shadow}
   */
  public static Mode fromConfigName(String name) {
    for (Mode mode : values()) {
      if (mode.configName.equals(name)) {
        return mode;
      }
    }
    throw new IllegalArgumentException(PolicyMessages.unknownMode(name));
  }
}
