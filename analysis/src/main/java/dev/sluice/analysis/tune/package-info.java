/**
 * {@code sluice tune}: per policy and limit, each identity's peak demand over the limit's window
 * (exact sliding-window maxima), its distribution, and the limit and burst a quantile of
 * identities would never have exceeded, times a headroom.
 */
package dev.sluice.analysis.tune;
