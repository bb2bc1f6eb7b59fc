/**
 * The decision API (SPEC §8): {@code POST /v1/decide} and {@code POST /v1/settle} on {@code
 * decision.listen}, deciding with the gateway's engine (same policies, state, listeners) for an
 * application that asks before handling a request (the {@code sluice-flask} middleware). Refusals
 * and rate-limit fields come from {@code dev.sluice.gateway.response.Refusals} and {@code
 * RateLimitHeaders}, the gateway's own renderers.
 */
package dev.sluice.gateway.decision;
