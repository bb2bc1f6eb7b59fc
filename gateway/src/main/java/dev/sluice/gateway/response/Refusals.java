package dev.sluice.gateway.response;

import dev.sluice.config.HeaderStyle;
import dev.sluice.engine.Decision;
import dev.sluice.engine.PolicyDecision;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;

/**
 * The one place that turns a decision into what Sluice answers instead of the upstream: the
 * gateway writes it to the client, the decision API (SPEC §8) returns its status, header fields
 * and body to the application. Both call {@link #of}, so the two answers are the same bytes.
 *
 * <p>Thread-safe; each call returns a new response the caller owns.
 */
public final class Refusals {
  /** Detail of the 503 when the engine itself failed (never a stack trace). */
  public static final String DECISION_FAILED = "the rate-limit decision failed; try again shortly";

  private Refusals() {}

  /**
   * The answer for a decision that refuses the request ({@code 429}, {@code 403}, {@code 503}),
   * or {@code null} when the decision lets it through ({@code ALLOWED}, {@code EXEMPT}).
   *
   * @param style which rate-limit fields the answer carries
   * @param alloc where a 429's body buffer comes from
   */
  public static FullHttpResponse of(Decision d, HeaderStyle style, ByteBufAllocator alloc) {
    return switch (d.outcome()) {
      case LIMITED -> d.concurrencyLimited()
          ? Problems.concurrencyLimited(d, style)
          : Problems.tooManyRequests(d, style, alloc);
      case BLOCKED -> Problems.blocked(d);
      case FORBIDDEN -> Problems.forbidden(
          "Requests from this client address or API key are refused by the gateway's block list.");
      case UNAVAILABLE -> Problems.serviceUnavailable(d.denying().filter(PolicyDecision::storeFull).isPresent()
          ? "the gateway's rate-limit memory for this route is full of clients still being limited;"
              + " new clients are refused until some refill"
          : "the rate-limit store is unavailable and this route is configured to fail closed");
      default -> null;
    };
  }

  /** The answer when the engine failed to decide at all: {@code 503} with {@code Retry-After: 1}. */
  public static FullHttpResponse decisionFailed() {
    return Problems.serviceUnavailable(DECISION_FAILED);
  }
}
