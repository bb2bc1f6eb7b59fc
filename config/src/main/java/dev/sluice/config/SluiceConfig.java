package dev.sluice.config;

import dev.sluice.policy.PolicySet;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A validated policy file: everything the gateway needs to run. Immutable.
 *
 * @param source the file it was read from (as given to the loader)
 * @param gateway listeners, upstream and its timeout
 * @param store which store and how it fails
 * @param headers which rate-limit header fields responses carry
 * @param auditLog the audit log path (a relative one in the file is resolved against the file's
 *     folder), {@code "-"} for stdout, empty when off
 * @param policies the policies, exemptions, defaults and identity rules, built by the core
 * @param warnings risky but valid set-ups found at load time (SPEC §2: {@code api_key} or {@code
 *     session} identities without a keys file and no {@code ip} limit on the same route), one
 *     sentence each, and a trusted proxy range that contains the gateway's listen address; printed
 *     by {@code sluice check} in the policy matrix
 * @param lifecycle drain on SIGTERM and the memory store's snapshot (SPEC §9)
 * @param accessLog the access log path (SPEC §10; relative to the file's folder like {@code
 *     audit_log}), {@code "-"} for stdout, empty when off
 * @param decision the decision API ({@code decision:}, SPEC §8); empty when the file has none.
 *     {@code sluice serve} runs the gateway when {@code gateway.upstream} is set, the decision API
 *     when this is present, or both over one engine and one state
 */
public record SluiceConfig(
    Path source,
    GatewaySettings gateway,
    StoreSettings store,
    HeaderStyle headers,
    Optional<String> auditLog,
    PolicySet policies,
    List<String> warnings,
    LifecycleSettings lifecycle,
    Optional<String> accessLog,
    Optional<DecisionSettings> decision) {

  public SluiceConfig {
    Objects.requireNonNull(accessLog, "accessLog");
    Objects.requireNonNull(decision, "decision");
    warnings = List.copyOf(warnings);
    Objects.requireNonNull(lifecycle, "lifecycle");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(gateway, "gateway");
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(headers, "headers");
    Objects.requireNonNull(auditLog, "auditLog");
    Objects.requireNonNull(policies, "policies");
  }

  /** A configuration without the decision API. */
  public SluiceConfig(
      Path source,
      GatewaySettings gateway,
      StoreSettings store,
      HeaderStyle headers,
      Optional<String> auditLog,
      PolicySet policies,
      List<String> warnings,
      LifecycleSettings lifecycle,
      Optional<String> accessLog) {
    this(source, gateway, store, headers, auditLog, policies, warnings, lifecycle, accessLog, Optional.empty());
  }

  /** Whether the gateway's proxy runs ({@code gateway.upstream} is set). */
  public boolean runsGateway() {
    return gateway.upstream() != null;
  }

  /** The same configuration with the decision API settings {@code decision} (for tests and tools). */
  public SluiceConfig withDecision(DecisionSettings decision) {
    return new SluiceConfig(source, gateway, store, headers, auditLog, policies, warnings, lifecycle, accessLog,
        Optional.of(decision));
  }

  /** A configuration without an access log or the decision API. */
  public SluiceConfig(
      Path source,
      GatewaySettings gateway,
      StoreSettings store,
      HeaderStyle headers,
      Optional<String> auditLog,
      PolicySet policies,
      List<String> warnings,
      LifecycleSettings lifecycle) {
    this(source, gateway, store, headers, auditLog, policies, warnings, lifecycle, Optional.empty());
  }

  /** A configuration with the default {@link LifecycleSettings}. */
  public SluiceConfig(
      Path source,
      GatewaySettings gateway,
      StoreSettings store,
      HeaderStyle headers,
      Optional<String> auditLog,
      PolicySet policies,
      List<String> warnings) {
    this(source, gateway, store, headers, auditLog, policies, warnings, LifecycleSettings.defaults());
  }

  /** A configuration built in code rather than loaded from a file: no load-time warnings. */
  public SluiceConfig(
      Path source,
      GatewaySettings gateway,
      StoreSettings store,
      HeaderStyle headers,
      Optional<String> auditLog,
      PolicySet policies) {
    this(source, gateway, store, headers, auditLog, policies, List.of());
  }
}
