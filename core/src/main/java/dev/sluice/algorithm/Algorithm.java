package dev.sluice.algorithm;

/** How a policy's limits are enforced; see {@code docs/algorithms.md} for guarantees and bounds. */
public enum Algorithm {
  /**
   * Generic cell rate algorithm: a token bucket kept as one timestamp (the theoretical arrival
   * time). Capacity {@code burst}, refilled continuously at N per period.
   */
  GCRA("gcra"),
  /** At most N admitted in any window of length period; no burst beyond N. */
  SLIDING_WINDOW("sliding_window");

  private final String configName;

  Algorithm(String configName) {
    this.configName = configName;
  }

  /** The name used in the policy file ({@code gcra}, {@code sliding_window}). */
  public String configName() {
    return configName;
  }
}
