package dev.sluice.policy;

/**
 * How important a policy's requests are when the gateway must shed load ({@code priority:};
 * {@code gateway.max_inflight}): {@link #LOW} is shed first, {@link #CRITICAL} last.
 */
public enum Priority {
  /** Shed last (e.g. login, payments). */
  CRITICAL("critical"),
  /** The default. */
  NORMAL("normal"),
  /** Shed first (e.g. exports, reports). */
  LOW("low");

  private final String configName;

  Priority(String configName) {
    this.configName = configName;
  }

  /** The name used in the policy file. */
  public String configName() {
    return configName;
  }

  /** Whether this priority outranks {@code other} (is shed later). */
  public boolean higherThan(Priority other) {
    return ordinal() < other.ordinal();
  }

  /**
   * The priority named {@code name} in the policy file.
   *
   * @throws IllegalArgumentException when {@code name} is not critical, normal or low
   */
  public static Priority fromConfigName(String name) {
    for (Priority priority : values()) {
      if (priority.configName.equals(name)) {
        return priority;
      }
    }
    throw new IllegalArgumentException(PolicyMessages.unknownPriority(name));
  }
}
