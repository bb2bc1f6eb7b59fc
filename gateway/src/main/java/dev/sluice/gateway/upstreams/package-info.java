/**
 * Several upstreams ({@code gateway.upstream} as a list, SPEC §12): round-robin choice, passive
 * health (an upstream that refuses connections or fails to connect repeatedly is skipped for a
 * while, then tried again) and per-upstream metrics. The connections themselves stay in {@code
 * dev.sluice.gateway.proxy.UpstreamPool}, which asks an {@link dev.sluice.gateway.upstreams.UpstreamSet}
 * which upstream to connect to.
 */
package dev.sluice.gateway.upstreams;
