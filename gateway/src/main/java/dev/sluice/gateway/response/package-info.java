/**
 * How Sluice formats what the engine decided onto HTTP responses: the rate-limit header fields
 * ({@link dev.sluice.gateway.response.RateLimitHeaders}, IETF draft and legacy families) and the
 * problem+json responses Sluice answers itself ({@link dev.sluice.gateway.response.Problems}).
 * Nothing here recomputes the math; it only serialises a {@code Decision}.
 */
package dev.sluice.gateway.response;
