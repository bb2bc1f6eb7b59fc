package dev.sluice.identity;

/**
 * A resolved identity of one request.
 *
 * @param spec which {@code by:} entry produced it
 * @param value the value; secrets and personal data (API keys, sessions, header values, body
 *     fields) are already a short hash, never the raw value; IPv6 addresses are already grouped by
 *     prefix; a composite's value is its parts' values joined with {@code +} (each part's {@code %}
 *     and {@code +} percent-escaped)
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
