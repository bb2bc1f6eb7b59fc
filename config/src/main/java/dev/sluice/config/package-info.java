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
 * <p>The abuse-control keys of SPEC §7 ({@code block}, {@code gateway.max_inflight},
 * {@code gateway.admin_token_env}, and per policy {@code count}, {@code penalty},
 * {@code concurrency}, {@code priority} and {@code body:} identities) are ordinary parts of the
 * grammar, checked like every other key.
 */
package dev.sluice.config;
