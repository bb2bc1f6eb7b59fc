/**
 * The decision engine: {@link dev.sluice.engine.Engine} turns a request into a
 * {@link dev.sluice.engine.Decision} (request → client address → exemptions → matching policies →
 * identities → one store call per policy → outcome). The HTTP layer formats what it decided and
 * never recomputes it.
 */
package dev.sluice.engine;
