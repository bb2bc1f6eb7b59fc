/**
 * The policy model: {@link dev.sluice.policy.Policy} (what a policy matches, whom it counts, its
 * limits) and {@link dev.sluice.policy.PolicySet} (all policies, defaults, exemptions, identity
 * rules), built with validating builders that report errors as
 * {@link dev.sluice.policy.PolicyConfigException} with the config path of the offending node.
 * Immutable once built; a reload builds a new set.
 */
package dev.sluice.policy;
