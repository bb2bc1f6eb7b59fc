package dev.sluice.config;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * The abuse-control features of SPEC §7 that the policy file can turn on, each with the keys it
 * owns. A feature the gateway does not enforce yet must be refused at load time ("is not available
 * in this version of Sluice"), never accepted and silently ignored: an operator who writes
 * {@code block:} must be able to rely on it.
 *
 * <p><b>The switch</b>: {@link #ENABLED} lists the features accepted by {@link ConfigLoader#load}
 * and {@link ConfigLoader#parse}. Add a feature to it in the same change that makes the gateway
 * enforce it. Tests of the YAML layer pass their own set to the {@code ConfigLoader} overloads
 * that take one.
 *
 * <p>Always accepted, not gated: {@code clients.session.keys_file}, and composite identities
 * whose parts do not read the body ({@code ip+header:X-Tenant}); the engine handles both alone.
 */
public enum AbuseFeature {
  /** Top-level {@code block: { ips, api_keys }}: always refused with 403 (gateway answers FORBIDDEN). */
  BLOCK("block"),
  /** {@code policies[].count: { status: [...] }}: needs the gateway to report the upstream status. */
  COUNT("policies[].count"),
  /** {@code policies[].penalty: {...}}: needs BLOCKED answers and the ban replica refresh. */
  PENALTY("policies[].penalty"),
  /** {@code policies[].concurrency: N}: needs the gateway to release permits when exchanges end. */
  CONCURRENCY("policies[].concurrency"),
  /** {@code gateway.max_inflight} and {@code policies[].priority}: load shedding by priority. */
  SHEDDING("gateway.max_inflight, policies[].priority"),
  /** {@code gateway.admin_token_env}: the admin API (bans) behind a bearer token. */
  ADMIN_TOKEN("gateway.admin_token_env"),
  /**
   * {@code by: body:<field>} and composites with a body part ({@code ip+body:username}): needs the
   * gateway to buffer bodies of the routes {@code PolicySet.needsBody} names.
   */
  BODY_IDENTITY("by: body:<field>");

  /**
   * THE SWITCH: the §7 features production loading accepts. Empty until the gateway enforces them;
   * e.g. {@code EnumSet.of(BLOCK, PENALTY)} once it answers FORBIDDEN and BLOCKED.
   */
  static final Set<AbuseFeature> ENABLED = Collections.unmodifiableSet(EnumSet.allOf(AbuseFeature.class));

  private final String keys;

  AbuseFeature(String keys) {
    this.keys = keys;
  }

  /** The policy-file keys this feature owns, for documentation and messages. */
  public String keys() {
    return keys;
  }

  /** The features {@link ConfigLoader#load(java.nio.file.Path)} accepts in this build. */
  public static Set<AbuseFeature> enabled() {
    return ENABLED;
  }

  /** Every feature: what tests of the YAML layer use. */
  public static Set<AbuseFeature> all() {
    return Collections.unmodifiableSet(EnumSet.allOf(AbuseFeature.class));
  }

  static Set<AbuseFeature> copyOf(Set<AbuseFeature> features) {
    return features.isEmpty()
        ? Collections.unmodifiableSet(EnumSet.noneOf(AbuseFeature.class))
        : Collections.unmodifiableSet(EnumSet.copyOf(features));
  }
}
