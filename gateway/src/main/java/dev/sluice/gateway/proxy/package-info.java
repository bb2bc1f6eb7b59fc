/**
 * The HTTP/1.1 reverse proxy: strict request parsing, one decision per request, streamed bodies in
 * both directions, keep-alive on both sides with a small upstream connection pool per event loop.
 *
 * <p>One request's path through this package: {@code StrictRequestDecoder} (framing checks) →
 * {@code ClientHandler} (normalise, decide, answer or forward) → {@code UpstreamPool} /
 * {@code UpstreamHandler} (the upstream connection) → back through {@code ClientHandler}. Every
 * piece of per-connection state is touched only by the connection's event loop; the upstream
 * connection of an exchange is registered on the same loop, so no locks are needed.
 */
package dev.sluice.gateway.proxy;
