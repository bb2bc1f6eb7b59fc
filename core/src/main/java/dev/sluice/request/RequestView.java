package dev.sluice.request;

import dev.sluice.identity.IdentityKind;
import java.net.InetAddress;
import java.util.List;

/**
 * What the engine may read of an HTTP request. The HTTP layer adapts its own request type to this
 * interface; the engine never sees a server's types. Implementations need not be thread-safe: a
 * view is read by the one thread deciding the request.
 */
public interface RequestView {

  /**
   * The most body bytes a gateway buffers for {@code body:} identities (16 KiB). {@link
   * #bodyPrefix()} returns at most this many bytes.
   */
  int BODY_PREFIX_LIMIT = 16 * 1024;

  /** The request method in upper case, e.g. {@code GET}. */
  String method();

  /**
   * The normalised path (percent-decoded except {@code %2F}, dot-segments removed, repeated
   * slashes collapsed), without the query string. See {@code dev.sluice.match.PathNormalizer}.
   */
  String path();

  /** The raw query string without the leading {@code ?}, or {@code null} when there is none. */
  String rawQuery();

  /** The TCP peer that sent the request (a client or a proxy). */
  InetAddress peerAddress();

  /**
   * Every value of the named header, in the order received (one entry per header line), matched
   * case-insensitively; an empty list when absent. Never {@code null}.
   */
  List<String> headers(String name);

  /** The first value of the named header, or {@code null} when absent. */
  default String header(String name) {
    List<String> values = headers(name);
    return values.isEmpty() ? null : values.get(0);
  }

  /**
   * Identities that were already resolved when the request was first decided, keyed by the {@code
   * by:} entry as written (e.g. {@code ip}, {@code api_key}, {@code header:X-Tenant}) — an access
   * log line's {@code identities}, replayed offline by {@code sluice replay}; {@code null} (the
   * default, and always for live traffic) to resolve identities from the request only. A kind in
   * this map (any but {@code ip} and {@code global}) is taken exactly as given (already hashed: no
   * second hash, no {@code keys_file} or JWT check), so a replayed request is counted in the very
   * buckets the live one was; a kind the map lacks is resolved from the request as usual.
   */
  default java.util.Map<String, String> resolvedIdentities() {
    return null;
  }

  /**
   * The start of the request body, for {@code body:<field>} identities; {@code null} when the body
   * was not buffered (the default: only routes whose policies read the body are buffered, see
   * {@code PolicySet.needsBody}). An empty array means an empty body.
   *
   * <p>Contract for implementations: the whole body when it has at most {@link
   * #BODY_PREFIX_LIMIT} bytes, otherwise exactly its first {@link #BODY_PREFIX_LIMIT} bytes, as
   * received (still content-encoded, de-chunked). Readers treat a prefix as complete only when its
   * length equals the request's {@code Content-Length}, or, without one (chunked), when it is
   * shorter than the limit; a possibly truncated body gives no body identity. The returned array must not be modified by readers.
   */
  default byte[] bodyPrefix() {
    return null;
  }

  /**
   * A value the application asserts for an identity it has already authenticated (the decision
   * API's {@code identities}), or {@code null} when it asserts none (the default: the gateway
   * never has asserted identities). An asserted value takes precedence over what the request's
   * headers would give for that kind; it still goes through the same checks ({@code keys_file})
   * and hashing, so an asserted identity and the same identity seen by the gateway share a bucket.
   *
   * @param kind {@link IdentityKind#USER}, {@link IdentityKind#SESSION}, {@link
   *     IdentityKind#API_KEY} or {@link IdentityKind#HEADER}
   * @param parameter the header name for {@link IdentityKind#HEADER} (matched case-insensitively),
   *     else {@code null}
   */
  default String assertedIdentity(IdentityKind kind, String parameter) {
    return null;
  }

  /**
   * Which front end received the request: {@code "gateway"} (the default) or {@code "decision"}
   * (the decision API); the {@code via} label of {@code sluice_requests_total}.
   */
  default String via() {
    return "gateway";
  }
}
