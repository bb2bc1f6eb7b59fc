/**
 * The plan of {@code sluice verify}: from the loaded policy matrix (the model {@code sluice check}
 * prints) to checks, each with a route, a recipe for fresh identities, the number of requests it
 * may send and what must come back; or the reason it cannot be proven.
 */
package dev.sluice.verify.plan;
