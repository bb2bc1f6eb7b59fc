package dev.sluice.gateway.response;

import dev.sluice.config.HeaderStyle;
import dev.sluice.engine.Decision;
import dev.sluice.engine.PolicyDecision;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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

  static final String FORBIDDEN_DETAIL =
      "Requests from this client address or API key are refused by the gateway's block list.";
  static final String STORE_FULL_DETAIL =
      "the gateway's rate-limit memory for this route is full of clients still being limited;"
          + " new clients are refused until some refill";
  static final String STORE_DOWN_DETAIL =
      "the rate-limit store is unavailable and this route is configured to fail closed";

  // The constant answers, encoded once (EncodedResponse): the gateway copies their bytes.
  private static final EncodedResponse.Fixed FORBIDDEN = new EncodedResponse.Fixed(Problems.forbidden(FORBIDDEN_DETAIL));
  private static final EncodedResponse.Fixed STORE_FULL =
      new EncodedResponse.Fixed(Problems.serviceUnavailable(STORE_FULL_DETAIL));
  private static final EncodedResponse.Fixed STORE_DOWN =
      new EncodedResponse.Fixed(Problems.serviceUnavailable(STORE_DOWN_DETAIL));
  private static final EncodedResponse.Fixed DECISION_FAILED_ANSWER =
      new EncodedResponse.Fixed(Problems.serviceUnavailable(DECISION_FAILED));
  private static final Map<String, EncodedResponse.Fixed> SHED = new ConcurrentHashMap<>();

  private Refusals() {}

  /**
   * {@link #of} in its wire form for the gateway's client connections (the decision API keeps the
   * response object: it returns the parts): the 429 from its templates, the constant answers
   * from bytes encoded once, the rest (bans, concurrency caps) encoded from their response.
   *
   * @param close whether the connection closes after this answer ({@code connection: close})
   */
  public static EncodedResponse encoded(Decision d, HeaderStyle style, ByteBufAllocator alloc, boolean close) {
    return switch (d.outcome()) {
      case LIMITED -> d.concurrencyLimited()
          ? EncodedResponse.encode(Problems.concurrencyLimited(d, style), close, alloc)
          : Problems.encodedTooManyRequests(d, style, alloc, close);
      case BLOCKED -> EncodedResponse.encode(Problems.blocked(d), close, alloc);
      case FORBIDDEN -> FORBIDDEN.copy(close, alloc);
      case UNAVAILABLE -> (storeFull(d) ? STORE_FULL : STORE_DOWN).copy(close, alloc);
      default -> null;
    };
  }

  /** {@link #decisionFailed()} in its wire form. */
  public static EncodedResponse encodedDecisionFailed(ByteBufAllocator alloc, boolean close) {
    return DECISION_FAILED_ANSWER.copy(close, alloc);
  }

  /** {@link Problems#shed(String)} in its wire form; one encoding per priority name. */
  public static EncodedResponse encodedShed(String priority, ByteBufAllocator alloc, boolean close) {
    return SHED.computeIfAbsent(priority, p -> new EncodedResponse.Fixed(Problems.shed(p))).copy(close, alloc);
  }

  private static boolean storeFull(Decision d) {
    return d.denying().filter(PolicyDecision::storeFull).isPresent();
  }

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
      case FORBIDDEN -> Problems.forbidden(FORBIDDEN_DETAIL);
      case UNAVAILABLE -> Problems.serviceUnavailable(storeFull(d) ? STORE_FULL_DETAIL : STORE_DOWN_DETAIL);
      default -> null;
    };
  }

  /** The answer when the engine failed to decide at all: {@code 503} with {@code Retry-After: 1}. */
  public static FullHttpResponse decisionFailed() {
    return Problems.serviceUnavailable(DECISION_FAILED);
  }
}
