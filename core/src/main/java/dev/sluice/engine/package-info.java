/**
 * The decision engine: {@link dev.sluice.engine.Engine} turns a request into a
 * {@link dev.sluice.engine.Decision} (request → client address → exemptions → matching policies →
 * identities → one store call per policy → outcome). The HTTP layer formats what it decided and
 * never recomputes it.
 *
 * <p>Abuse control (SPEC §7) lives here too: {@code block:} ({@link
 * dev.sluice.engine.Outcome#FORBIDDEN}), bans checked against the local {@link
 * dev.sluice.engine.BanList} replica and imposed by {@code penalty:} ({@link
 * dev.sluice.engine.Outcome#BLOCKED}), {@code count:} reservations and {@code concurrency:}
 * permits that a forwarded {@link dev.sluice.engine.Decision} holds until the gateway calls
 * {@link dev.sluice.engine.Decision#onResponse(int)} and {@link dev.sluice.engine.Decision#release()}.
 * See {@link dev.sluice.engine.Engine} for the protocol.
 *
 * <p>Layout: {@code Engine} is the public façade (builder, reload, {@code decide}, {@code
 * decideNow}); behind it, package-private, {@code OrdinaryPath} decides every request as a stage,
 * {@code FastPath} answers the commonest ones at once with shared decisions, {@code AbuseControl}
 * runs penalties, permits and count reservations after the store answered, and {@code
 * DecisionSteps} holds one version's compiled policies ({@code AppliedPolicy}, {@code
 * AccessLists}) and the steps both paths share.
 */
package dev.sluice.engine;
