package dev.sluice.identity;

/**
 * A resolved identity of one request.
 *
 * @param spec which {@code by:} entry produced it
 * @param value the value; secrets (API keys, sessions, header values) are already a short hash,
 *     never the raw secret; IPv6 addresses are already grouped by prefix
 */
public record Identity(IdentitySpec spec, String value) {

  /** Both components are required. */
  public Identity {
    java.util.Objects.requireNonNull(spec, "spec");
    java.util.Objects.requireNonNull(value, "value");
  }

  /** The identity part of a bucket key, {@code spec:value}; distinct specs never collide. */
  public String key() {
    return spec + ":" + value;
  }
}
