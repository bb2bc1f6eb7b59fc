/**
 * The policy file: reads {@code sluice.yaml} into a {@link dev.sluice.config.SluiceConfig}.
 *
 * <p>This package is an adapter around the core: it walks the YAML node tree by hand so every
 * value keeps its line and column, types each value, and then feeds the core builders
 * ({@code PolicySet}, {@code Policy}, {@code IdentityResolver}). All semantic rules (cost versus
 * capacity, duplicate names, limit grammar, path patterns) live in the core; this package only maps
 * their errors back to {@code file:line:column}. {@link dev.sluice.config.PolicyMatrix} renders the
 * effective policies as the table {@code sluice check} prints.
 *
 * <p>Abuse-control keys (SPEC §7) are accepted per feature, only once the gateway enforces them:
 * {@link dev.sluice.config.AbuseFeature} holds the switch.
 */
package dev.sluice.config;
