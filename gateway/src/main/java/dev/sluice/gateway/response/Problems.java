package dev.sluice.gateway.response;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.config.HeaderStyle;
import dev.sluice.engine.Decision;
import dev.sluice.engine.PolicyDecision;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The responses Sluice answers itself, all {@code application/problem+json} (RFC 9457) with
 * {@code type}, {@code title}, {@code status} and {@code detail}, a {@code Content-Length} and
 * {@code Cache-Control: no-store} (a rate-limit answer is about this moment and this client; no
 * cache may replay it to anyone).
 *
 * <p>Bodies never contain a secret: they are built only from policy names, limit texts and
 * numbers, never from identities or request headers. Details passed in by callers must follow the
 * same rule.
 *
 * <p>Each call returns a new response the caller owns (and releases by writing it). Thread-safe.
 */
public final class Problems {

  /** The media type of every body built here. */
  public static final String PROBLEM_JSON = "application/problem+json";
  /** The problem type of a 429 (IANA HTTP problem types registry). */
  public static final String QUOTA_EXCEEDED = "https://iana.org/assignments/http-problem-types#quota-exceeded";

  /** The problem type of a 429 for a banned identity (IANA HTTP problem types registry). */
  public static final String ABNORMAL_USAGE =
      "https://iana.org/assignments/http-problem-types#abnormal-usage-detected";
  /** The problem type of a 503 for a request shed under load (IANA HTTP problem types registry). */
  public static final String TEMPORARY_REDUCED_CAPACITY =
      "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity";

  // ObjectMapper is thread-safe once configured; one instance avoids per-response setup.
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static final AsciiString PROBLEM_JSON_VALUE = AsciiString.cached(PROBLEM_JSON);
  private static final HttpHeadersFactory PRECHECKED_HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);

  private Problems() {}

  /**
   * The {@code 429 Too Many Requests} for a limited decision: {@code Retry-After}, the rate-limit
   * fields of the denying policy and limit in {@code style}, and a body with {@code type} =
   * {@link #QUOTA_EXCEEDED}, {@code title}, {@code status}, {@code detail}, {@code
   * violated-policies} (the item names of every enforced policy that denied), {@code policy},
   * {@code limit} (as written in the policy file) and {@code retry_after} (seconds).
   *
   * @param decision a decision with outcome {@code LIMITED}
   * @param style which rate-limit fields to add ({@code Retry-After} is always sent)
   */
  public static FullHttpResponse tooManyRequests(Decision decision, HeaderStyle style) {
    return tooManyRequests(decision, style, ByteBufAllocator.DEFAULT);
  }

  /**
   * {@link #tooManyRequests(Decision, HeaderStyle)} with the body in a buffer of {@code alloc}
   * (the channel's, on the gateway's hot path). The body and the header values come from
   * templates precomputed per policy and limit, so a refusal under a flood costs a few copies.
   *
   * @param alloc where the body's buffer comes from
   */
  public static FullHttpResponse tooManyRequests(Decision decision, HeaderStyle style, ByteBufAllocator alloc) {
    long retryAfter = Math.max(1, decision.retryAfterSeconds());
    // A store failure (UNAVAILABLE) is not a quota answer; it names no limit.
    PolicyDecision denying = decision.denying().filter(pd -> !pd.storeError()).orElse(null);
    ByteBuf body = LimitTemplates.quotaExceeded(decision, denying, retryAfter, alloc);
    // Every name and value below is a constant or was checked when its template was built, so
    // the headers skip Netty's per-value validation.
    // A full (not chunked) response has no trailers: the shared empty set saves a header table.
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.TOO_MANY_REQUESTS,
        body, PRECHECKED_HEADERS.newHeaders(), EmptyHttpHeaders.INSTANCE);
    HttpHeaders headers = response.headers();
    headers.set(HttpHeaderNames.CONTENT_TYPE, PROBLEM_JSON_VALUE);
    headers.set(HttpHeaderNames.CONTENT_LENGTH, LimitTemplates.number(body.readableBytes()));
    headers.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
    headers.set(HttpHeaderNames.RETRY_AFTER, LimitTemplates.number(retryAfter));
    if (denying != null) {
      RateLimitHeaders.writeDenied(style, denying, retryAfter, headers);
    }
    return response;
  }

  private static final byte[] TOO_MANY_START = (
      "HTTP/1.1 429 Too Many Requests\r\n" + HttpHeaderNames.CONTENT_TYPE + ": " + PROBLEM_JSON + "\r\n"
          + HttpHeaderNames.CONTENT_LENGTH + ": ").getBytes(StandardCharsets.US_ASCII);
  private static final byte[] THEN_CACHE_CONTROL_RETRY_AFTER = ("\r\n" + HttpHeaderNames.CACHE_CONTROL + ": "
      + HttpHeaderValues.NO_STORE + "\r\n" + HttpHeaderNames.RETRY_AFTER + ": ").getBytes(StandardCharsets.US_ASCII);

  /**
   * {@link #tooManyRequests(Decision, HeaderStyle, ByteBufAllocator)} in its wire form, written
   * straight from the templates: the same bytes as Netty's encoder gives for that response (with
   * {@code connection: close} last when {@code close}), without building a header map.
   *
   * @param close whether the connection closes after this answer
   */
  public static EncodedResponse encodedTooManyRequests(
      Decision decision, HeaderStyle style, ByteBufAllocator alloc, boolean close) {
    long retryAfter = Math.max(1, decision.retryAfterSeconds());
    PolicyDecision denying = decision.denying().filter(pd -> !pd.storeError()).orElse(null);
    // Composed in this thread's heap scratch, then copied once into its wire buffer (WireArena).
    WireArena arena = WireArena.get();
    ByteBuf out = arena.scratch();
    out.writeBytes(TOO_MANY_START);
    LimitTemplates.writeDecimal(out, LimitTemplates.quotaExceededLength(decision, denying, retryAfter));
    out.writeBytes(THEN_CACHE_CONTROL_RETRY_AFTER);
    LimitTemplates.writeDecimal(out, retryAfter);
    out.writeBytes(EncodedResponse.CRLF);
    if (denying != null) {
      RateLimitHeaders.writeDenied(style, denying, retryAfter, out);
    }
    if (close) {
      out.writeBytes(EncodedResponse.CONNECTION_CLOSE);
    }
    out.writeBytes(EncodedResponse.CRLF);
    int headLength = out.writerIndex();
    LimitTemplates.writeQuotaExceeded(out, decision, denying, retryAfter);
    ByteBuf wire = arena.copy(out, alloc);
    return new EncodedResponse(HttpResponseStatus.TOO_MANY_REQUESTS.code(), close, wire, headLength);
  }

  /**
   * The {@code 429 Too Many Requests} for a banned identity (outcome {@code BLOCKED}, SPEC §7):
   * {@code Retry-After} = the remaining ban, no rate-limit fields (a ban is not a quota a client
   * can pace itself by), and a body with {@code type} = {@link #ABNORMAL_USAGE}, {@code
   * violated-policies} (the banning policies), {@code policy} and {@code retry_after}. The body
   * names neither the identity nor the ban reason's data: only the policy and the wait.
   *
   * @param decision a decision with outcome {@code BLOCKED}
   */
  public static FullHttpResponse blocked(Decision decision) {
    long retryAfter = Math.max(1, decision.retryAfterSeconds());
    ObjectNode body = base(HttpResponseStatus.TOO_MANY_REQUESTS, ABNORMAL_USAGE, "Too Many Requests", null);
    ArrayNode violated = MAPPER.createArrayNode();
    for (PolicyDecision pd : decision.policies()) {
      if (pd.blocked() && !containsText(violated, pd.policy().name())) {
        violated.add(pd.policy().name());
      }
    }
    Optional<PolicyDecision> denying = decision.denying();
    String wait = retryAfter + (retryAfter == 1 ? " second." : " seconds.");
    if (denying.isPresent()) {
      body.put("detail", "Requests from this client are blocked by policy \"" + denying.get().policy().name()
          + "\" after abnormal usage; the block ends in " + wait);
      body.set("violated-policies", violated);
      body.put("policy", denying.get().policy().name());
    } else {
      body.put("detail", "Requests from this client are blocked after abnormal usage; the block ends in " + wait);
      body.set("violated-policies", violated);
    }
    body.put("retry_after", retryAfter);
    FullHttpResponse response = respond(HttpResponseStatus.TOO_MANY_REQUESTS, body);
    response.headers().set(HttpHeaderNames.RETRY_AFTER, Long.toString(retryAfter));
    return response;
  }

  /**
   * The {@code 429 Too Many Requests} for a request over a policy's {@code concurrency} cap:
   * {@code Retry-After: 1}, the rate-limit fields of the cap in {@code style} (IETF: item
   * {@code "<policy>/concurrency"} with {@code q} = the cap and {@code qu="concurrent-requests"},
   * {@code r=0;t=1}; legacy: limit = the cap, remaining 0, reset 1) and a body with {@code type} =
   * {@link #QUOTA_EXCEEDED} whose detail says it is a concurrency limit, plus {@code
   * violated-policies}, {@code policy}, {@code limit} ({@code "concurrency: N"}) and {@code
   * retry_after}.
   *
   * @param decision a {@code LIMITED} decision with {@link Decision#concurrencyLimited()}
   * @param style which rate-limit fields to add ({@code Retry-After} is always sent)
   */
  public static FullHttpResponse concurrencyLimited(Decision decision, HeaderStyle style) {
    PolicyDecision pd = decision.denying().orElseThrow(
        () -> new IllegalArgumentException("not a concurrency refusal: " + decision));
    String policy = pd.policy().name();
    int cap = pd.policy().concurrency();
    String item = RateLimitHeaders.concurrencyItem(policy);
    ObjectNode body = base(HttpResponseStatus.TOO_MANY_REQUESTS, QUOTA_EXCEEDED, "Too Many Requests", null);
    body.put("detail", "Concurrency limit of policy \"" + policy + "\" reached: at most " + cap
        + (cap == 1 ? " request" : " requests") + " from this client may be in progress at once; retry in 1 second.");
    body.set("violated-policies", MAPPER.createArrayNode().add(item));
    body.put("policy", policy);
    body.put("limit", "concurrency: " + cap);
    body.put("retry_after", 1);
    FullHttpResponse response = respond(HttpResponseStatus.TOO_MANY_REQUESTS, body);
    response.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
    RateLimitHeaders.writeConcurrency(style, policy, cap, response.headers());
    return response;
  }

  /**
   * The {@code 503 Service Unavailable} for a request shed because the gateway has too many
   * requests in flight to the upstream ({@code gateway.max_inflight}): {@code Retry-After: 1} and a
   * body with {@code type} = {@link #TEMPORARY_REDUCED_CAPACITY} and {@code priority}.
   *
   * @param priority the request's priority ({@code low}, {@code normal} or {@code critical})
   */
  public static FullHttpResponse shed(String priority) {
    ObjectNode body = base(HttpResponseStatus.SERVICE_UNAVAILABLE, TEMPORARY_REDUCED_CAPACITY,
        "Service Unavailable", "The gateway is at capacity and sheds " + priority
            + "-priority requests first; retry in 1 second.");
    body.put("priority", priority);
    body.put("retry_after", 1);
    FullHttpResponse response = respond(HttpResponseStatus.SERVICE_UNAVAILABLE, body);
    response.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
    return response;
  }

  /**
   * {@code 401 Unauthorized} with {@code WWW-Authenticate: Bearer realm="sluice-admin"}: an admin
   * API request without the right bearer token.
   */
  public static FullHttpResponse unauthorized(String detail) {
    FullHttpResponse response = simple(HttpResponseStatus.UNAUTHORIZED, detail);
    response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"sluice-admin\"");
    return response;
  }

  /** {@code 503 Service Unavailable} with {@code Retry-After: 1} (store failure under {@code on_error: deny}). */
  public static FullHttpResponse serviceUnavailable(String detail) {
    FullHttpResponse response = simple(HttpResponseStatus.SERVICE_UNAVAILABLE, detail);
    response.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
    return response;
  }

  /** {@code 502 Bad Gateway}: the upstream could not be reached or answered malformed HTTP. */
  public static FullHttpResponse badGateway(String detail) {
    return simple(HttpResponseStatus.BAD_GATEWAY, detail);
  }

  /** {@code 504 Gateway Timeout}: the upstream did not answer within {@code upstream_timeout}. */
  public static FullHttpResponse gatewayTimeout(String detail) {
    return simple(HttpResponseStatus.GATEWAY_TIMEOUT, detail);
  }

  /** {@code 400 Bad Request}: a request the gateway refuses to parse or normalise. */
  public static FullHttpResponse badRequest(String detail) {
    return simple(HttpResponseStatus.BAD_REQUEST, detail);
  }

  /** {@code 408 Request Timeout}: the client was too slow sending its request (the connection closes). */
  public static FullHttpResponse requestTimeout(String detail) {
    return simple(HttpResponseStatus.REQUEST_TIMEOUT, detail);
  }

  /** {@code 431 Request Header Fields Too Large}. */
  public static FullHttpResponse headersTooLarge() {
    return simple(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
        "The request's header section is larger than the gateway accepts.");
  }

  /** {@code 403 Forbidden}: a request refused by a {@code block:} rule. */
  public static FullHttpResponse forbidden(String detail) {
    return simple(HttpResponseStatus.FORBIDDEN, detail);
  }

  /** {@code 404 Not Found} (admin listener). */
  public static FullHttpResponse notFound(String detail) {
    return simple(HttpResponseStatus.NOT_FOUND, detail);
  }

  /** {@code 405 Method Not Allowed} with the {@code Allow} field set to {@code allow}. */
  public static FullHttpResponse methodNotAllowed(String detail, String allow) {
    FullHttpResponse response = simple(HttpResponseStatus.METHOD_NOT_ALLOWED, detail);
    response.headers().set(HttpHeaderNames.ALLOW, allow);
    return response;
  }

  /**
   * A problem with {@code type} = {@code about:blank} (RFC 9457 §4.2.1: the title is then the
   * reason phrase) and the given status and detail.
   */
  public static FullHttpResponse simple(HttpResponseStatus status, String detail) {
    return respond(status, base(status, "about:blank", status.reasonPhrase(), detail));
  }

  private static ObjectNode base(HttpResponseStatus status, String type, String title, String detail) {
    ObjectNode body = MAPPER.createObjectNode();
    body.put("type", type);
    body.put("title", title);
    body.put("status", status.code());
    if (detail != null) {
      body.put("detail", detail);
    }
    return body;
  }

  private static FullHttpResponse respond(HttpResponseStatus status, ObjectNode body) {
    byte[] bytes;
    try {
      bytes = MAPPER.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      // An ObjectNode of strings and numbers always serialises; this is a bug, not a runtime state.
      throw new IllegalStateException("cannot serialise problem body " + body, e);
    }
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
    HttpHeaders headers = response.headers();
    headers.set(HttpHeaderNames.CONTENT_TYPE, PROBLEM_JSON);
    headers.setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    headers.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
    return response;
  }

  private static boolean containsText(ArrayNode array, String text) {
    for (int i = 0; i < array.size(); i++) {
      if (array.get(i).asText().equals(text)) {
        return true;
      }
    }
    return false;
  }
}
