package dev.sluice.policy;

/** What a policy decides when the store cannot answer ({@code on_error:}, SPEC §3). */
public enum OnError {
  /** Fail open: the request is admitted and the failure counted. The store-wide default. */
  ALLOW("allow"),
  /** Fail closed: the request is answered {@code 503 Service Unavailable} with {@code Retry-After: 1}. */
  DENY("deny");

  private final String configName;

  OnError(String configName) {
    this.configName = configName;
  }

  /** The name used in the policy file: {@code allow} or {@code deny}. */
  public String configName() {
    return configName;
  }

  /**
   * The value named {@code name} in the policy file.
   *
   * @throws IllegalArgumentException when {@code name} is not {@code allow} or {@code deny}
   */
  public static OnError fromConfigName(String name) {
    for (OnError value : values()) {
      if (value.configName.equals(name)) {
        return value;
      }
    }
    throw new IllegalArgumentException(PolicyMessages.unknownOnError(name));
  }
}
