/**
 * Safe policy changes on a running gateway (SPEC §9): {@link dev.sluice.gateway.reload.PolicyReloader}
 * re-reads and validates the policy file, refuses changes that need a restart ({@link
 * dev.sluice.gateway.reload.LiveSettings}), swaps the engine's policy set, and keeps the last good
 * versions for rollback; {@link dev.sluice.gateway.reload.ReloadMetrics} publishes what happened.
 */
package dev.sluice.gateway.reload;
