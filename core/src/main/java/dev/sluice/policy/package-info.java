/**
 * The policy model: {@link dev.sluice.policy.Policy} (what a policy matches, whom it counts, its
 * limits) and {@link dev.sluice.policy.PolicySet} (all policies, defaults, exemptions, identity
 * rules), built with validating builders that report errors as
 * {@link dev.sluice.policy.PolicyConfigException} with the config path of the offending node.
 * Immutable once built; a reload builds a new set.
 *
 * <p>Abuse control (SPEC §7): {@link dev.sluice.policy.StatusRange} ({@code count.status}),
 * {@link dev.sluice.policy.Penalty} ({@code penalty}), {@link dev.sluice.policy.Priority}
 * ({@code priority}), {@code concurrency} on a policy, and {@code block} on the set. A shadow
 * policy may use {@code count} (its counts stay faithful) and {@code penalty} (it never bans:
 * shadow never enforces); {@code concurrency} with {@code mode: shadow} is a configuration error.
 */
package dev.sluice.policy;
