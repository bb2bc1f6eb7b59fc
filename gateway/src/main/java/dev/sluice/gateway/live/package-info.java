/**
 * The live view (SPEC §10): a {@link dev.sluice.event.DecisionListener} that keeps, in bounded
 * memory, per-policy outcome rates of the last minute, the identities limited most over the last
 * 5 and 60 minutes (Space-Saving summaries per minute) and the latest audit-worthy decisions; and
 * the admin endpoints that expose them ({@code GET /v1/top}, {@code GET /v1/stats}) plus the
 * self-contained {@code /dashboard} page served from the jar.
 */
package dev.sluice.gateway.live;
