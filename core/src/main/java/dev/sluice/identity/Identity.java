package dev.sluice.identity;

import java.util.Objects;

/**
 * A resolved identity of one request: which {@code by:} entry produced it and its value.
 *
 * <p>Not a record, only so that {@link #key()} is computed once: the key is the hot path's map key
 * and an identity may be reused across requests (the resolver caches a client address's
 * {@code ip} identity), so one string instance, with its hash cached, serves every lookup.
 * Equality and hashing are those of the pair {@code (spec, value)}. Immutable.
 *
 * <p>An identity made from its key ({@link #ofKey}, the address cache's {@code ip} identities)
 * cuts its value out of the key only when asked: the decision itself needs only the key.
 */
public final class Identity {
  private final IdentitySpec spec;
  /** Null until asked for when made from the key; a racy fill-in of an immutable String. */
  private String value;
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

  private Identity(IdentitySpec spec, String value, String key) {
    this.spec = spec;
    this.value = value;
    this.key = key;
  }

  /** The identity whose {@link #key()} is {@code key}, which starts with {@code spec + ":"}. */
  static Identity ofKey(IdentitySpec spec, String key) {
    String prefix = spec.toString();
    if (key.length() <= prefix.length() || !key.startsWith(prefix) || key.charAt(prefix.length()) != ':') {
      throw new IllegalArgumentException("key " + key + " is not under " + spec);
    }
    return new Identity(spec, null, key);
  }

  /** Which {@code by:} entry produced this identity. */
  public IdentitySpec spec() {
    return spec;
  }

  /** The value (already hashed for secrets, grouped for IPv6). */
  public String value() {
    String v = value;
    if (v == null) {
      v = key.substring(spec.toString().length() + 1);
      value = v;
    }
    return v;
  }

  /** The identity part of a bucket key, {@code spec:value}; distinct specs never collide. */
  public String key() {
    return key;
  }

  @Override
  public boolean equals(Object o) {
    // The key is spec:value, so equal specs have equal keys exactly when their values are equal.
    return o instanceof Identity other && spec.equals(other.spec) && key.equals(other.key);
  }

  @Override
  public int hashCode() {
    return key.hashCode();
  }

  @Override
  public String toString() {
    return "Identity[spec=" + spec + ", value=" + value() + "]";
  }
}
