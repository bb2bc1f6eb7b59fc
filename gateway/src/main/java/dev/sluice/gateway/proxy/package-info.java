/**
 * The HTTP/1.1 reverse proxy: strict request parsing, one decision per request, streamed bodies in
 * both directions, keep-alive on both sides with a small upstream connection pool per event loop.
 *
 * <p>One request's path through this package: {@code StrictRequestDecoder} (framing checks) →
 * {@code ClientHandler} (the client connection: normalise, start one exchange at a time) →
 * {@code Exchange} (decide, then answer or forward) → {@code Forwarding} (the head sent upstream
 * written by {@code UpstreamRequestHead}) → {@code UpstreamPool} / {@code UpstreamCodec} / {@code
 * UpstreamHandler} (the upstream connection) → back through the {@code Forwarding} ({@code
 * ClientResponseHead}) and the client's {@code ResponseEncoder}. Every
 * piece of per-connection state is touched only by the connection's event loop; the upstream
 * connection of an exchange is registered on the same loop, so no locks are needed.
 */
package dev.sluice.gateway.proxy;
