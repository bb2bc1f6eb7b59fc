package dev.sluice.config;

/** Which rate-limit response header fields are sent ({@code headers:}, SPEC §5). */
public enum HeaderStyle {
  /** {@code RateLimit-Policy} and {@code RateLimit} (IETF httpapi draft); the default. */
  IETF("ietf"),
  /** {@code X-RateLimit-Limit}, {@code X-RateLimit-Remaining}, {@code X-RateLimit-Reset}. */
  LEGACY("legacy"),
  /** Both families. */
  BOTH("both"),
  /** Neither ({@code Retry-After} is still sent on 429). */
  NONE("none");

  private final String configName;

  HeaderStyle(String configName) {
    this.configName = configName;
  }

  /** The name used in the policy file. */
  public String configName() {
    return configName;
  }
}
