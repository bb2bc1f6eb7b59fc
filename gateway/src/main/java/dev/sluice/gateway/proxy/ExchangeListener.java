package dev.sluice.gateway.proxy;

import dev.sluice.engine.Decision;
import dev.sluice.request.RequestView;

/**
 * Told once per decided request when the status the client gets is known (the access log's
 * seam into the proxy): on the upstream's response head, or when the gateway answers itself (429,
 * 403, 503, 502, 504, 408), or with {@code 499} when the client left before any answer. Runs on
 * the connection's event loop: must not block or throw.
 */
@FunctionalInterface
public interface ExchangeListener {
  /** Listens to nothing. */
  ExchangeListener NONE = (request, decision, decidedAtMillis, shed, status, upstreamNanos) -> { };

  /**
   * @param request the request as the engine saw it
   * @param decision the engine's decision, or null when deciding failed (the client got 503)
   * @param decidedAtMillis wall-clock time of the decision, epoch milliseconds
   * @param shed whether {@code gateway.max_inflight} refused the request after an allow
   * @param status the status the client got ({@code 499}: the client left first)
   * @param upstreamNanos from sending the request upstream to its response head (or to the
   *     gateway giving up on it), or -1 when it was not sent upstream
   */
  void completed(RequestView request, Decision decision, long decidedAtMillis, boolean shed, int status,
      long upstreamNanos);
}
