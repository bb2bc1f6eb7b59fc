package dev.sluice.identity;

import java.util.Objects;

/**
 * A resolved identity of one request: which {@code by:} entry produced it and its value.
 *
 * <p>Not a record, only so that {@link #key()} is computed once: the key is the hot path's map key
 * and an identity may be reused across requests (the resolver caches a client address's
 * {@code ip} identity), so one string instance, with its hash cached, serves every lookup.
 * Equality and hashing are those of the pair {@code (spec, value)}. Immutable.
 */
public final class Identity {
  private final IdentitySpec spec;
  private final String value;
  private final String key;

  /**
   * @param spec which {@code by:} entry produced it
   * @param value the value; secrets and personal data (API keys, sessions, header values, body
   *     fields) are already a short hash, never the raw value; IPv6 addresses are already grouped by
   *     prefix; a composite's value is its parts' values joined with {@code +} (each part's {@code %}
   *     and {@code +} percent-escaped)
   */
  public Identity(IdentitySpec spec, String value) {
    this.spec = Objects.requireNonNull(spec, "spec");
    this.value = Objects.requireNonNull(value, "value");
    this.key = spec + ":" + value;
  }

  /** Which {@code by:} entry produced this identity. */
  public IdentitySpec spec() {
    return spec;
  }

  /** The value (already hashed for secrets, grouped for IPv6). */
  public String value() {
    return value;
  }

  /** The identity part of a bucket key, {@code spec:value}; distinct specs never collide. */
  public String key() {
    return key;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Identity other && spec.equals(other.spec) && value.equals(other.value);
  }

  @Override
  public int hashCode() {
    return 31 * spec.hashCode() + value.hashCode();
  }

  @Override
  public String toString() {
    return "Identity[spec=" + spec + ", value=" + value + "]";
  }
}
