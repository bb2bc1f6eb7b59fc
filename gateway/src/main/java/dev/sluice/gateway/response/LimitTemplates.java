package dev.sluice.gateway.response;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.engine.Decision;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.limit.Limit;
import dev.sluice.policy.Policy;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.AsciiString;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The precomputed parts of the responses about one policy's limits: its {@code 429} body as JSON
 * bytes around the retry-after, its item names as JSON strings, and its rate-limit field values.
 *
 * <p>Design. Under a flood nearly every request is refused, so the 429 is the gateway's hottest
 * response. Built as a Jackson tree and serialised per response it took ~27% of the gateway's
 * CPU (docs/benchmarks.md, F2), yet for one denying policy and limit only the retry-after (in the
 * detail sentence and in {@code retry_after}) and the list of violated items vary. So the
 * constant text is rendered once per (policy, limit) — by the same Jackson serialiser as the
 * other problem bodies, so the escaping is Jackson's to the byte — and a response only copies
 * byte arrays and writes digits into a buffer of the channel's allocator. Header values that
 * depend only on the policy ({@code RateLimit-Policy}, {@code X-RateLimit-Limit}) are kept as
 * {@link AsciiString}s, which the encoder copies without converting characters, as are the
 * decimal texts of small numbers.
 *
 * <p>Templates are found by policy identity in a copy-on-write map, so a lookup takes no lock: a
 * miss builds the policy's templates and publishes a new map. Two racing misses may lose one of
 * the two entries, which is only rebuilt on a later miss. The map is bounded ({@value #MAX_POLICIES}
 * policies, then it starts over), so policies of discarded engines do not pile up.
 *
 * <p>Immutable once built; thread-safe.
 */
final class LimitTemplates {
  static final int MAX_POLICIES = 1024;
  private static final int CACHED_RESETS = 64;

  /** The ObjectMapper of the reference rendering; only used while building templates. */
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final byte[] BODY_START = ascii("{\"type\":" + jsonText(Problems.QUOTA_EXCEEDED)
      + ",\"title\":\"Too Many Requests\",\"status\":429,\"detail\":");
  private static final byte[] ONE_SECOND_THEN_ITEMS = ascii(" second.\",\"violated-policies\":[");
  private static final byte[] SECONDS_THEN_ITEMS = ascii(" seconds.\",\"violated-policies\":[");
  private static final byte[] THEN_RETRY_AFTER = ascii(",\"retry_after\":");

  /** The body of a 429 that names no limit (the denying policy is unknown). */
  private static final Body NO_LIMIT =
      new Body(concat(BODY_START, openJsonText("Rate limit exceeded; retry in ")), concat(ascii("]"), THEN_RETRY_AFTER));

  /** Decimal texts of 0..{@code NUMBERS.length - 1}, filled on first use. */
  private static final AsciiString[] NUMBERS = new AsciiString[4096];

  private static volatile Map<Policy, LimitTemplates> cache = new IdentityHashMap<>();

  private final AsciiString policyField;
  private final Body[] bodies;
  private final byte[][] itemJson;
  /** Per limit: its item as an sf-string followed by {@code ;r=}, the start of a RateLimit value. */
  private final byte[][] rateLimitStart;
  private final AsciiString[] quantity;
  /**
   * Per limit: its {@code RateLimit} values with no token left ({@code r=0}) by {@code t} below
   * {@value #CACHED_RESETS}, the answer to nearly every request of a flood; filled on first use.
   */
  private final AsciiString[][] exhausted;

  private LimitTemplates(Policy policy) {
    List<Limit> limits = policy.limits();
    int n = limits.size();
    this.policyField = new AsciiString(RateLimitHeaders.policyField(policy));
    this.bodies = new Body[n];
    this.itemJson = new byte[n][];
    this.rateLimitStart = new byte[n][];
    this.quantity = new AsciiString[n];
    this.exhausted = new AsciiString[n][CACHED_RESETS];
    for (int i = 0; i < n; i++) {
      String item = policy.itemName(i);
      bodies[i] = body(policy.name(), limits.get(i).text());
      itemJson[i] = json(item);
      StringBuilder sb = new StringBuilder(item.length() + 6);
      RateLimitHeaders.appendSfString(sb, item);
      rateLimitStart[i] = ascii(sb.append(";r=").toString());
      quantity[i] = new AsciiString(Long.toString(limits.get(i).quantity()));
    }
  }

  /** The templates of {@code policy}, built on first use. */
  static LimitTemplates of(Policy policy) {
    LimitTemplates templates = cache.get(policy);
    if (templates == null) {
      templates = new LimitTemplates(policy);
      Map<Policy, LimitTemplates> current = cache;
      Map<Policy, LimitTemplates> next =
          current.size() >= MAX_POLICIES ? new IdentityHashMap<>() : new IdentityHashMap<>(current);
      next.put(policy, templates);
      cache = next;
    }
    return templates;
  }

  /**
   * Writes the body of {@link Problems#tooManyRequests}: {@code type}, {@code title}, {@code
   * status}, {@code detail}, {@code violated-policies}, then {@code policy} and {@code limit} when
   * {@code denying} is known, and {@code retry_after}.
   *
   * @param denying the enforced policy whose limit the body names, or null to name none
   * @param retryAfter whole seconds, at least 1
   */
  static ByteBuf quotaExceeded(Decision decision, PolicyDecision denying, long retryAfter, ByteBufAllocator alloc) {
    ByteBuf buf = alloc.buffer(quotaExceededLength(decision, denying, retryAfter));
    writeQuotaExceeded(buf, decision, denying, retryAfter);
    return buf;
  }

  /**
   * The length in bytes of the body {@link #writeQuotaExceeded} writes, counted from the same
   * templates without writing it (the {@code content-length} comes before the body).
   */
  static int quotaExceededLength(Decision decision, PolicyDecision denying, long retryAfter) {
    Body body = denying == null ? NO_LIMIT : of(denying.policy()).body(denying);
    int digits = digits(retryAfter);
    int length = body.head.length + digits
        + (retryAfter == 1 ? ONE_SECOND_THEN_ITEMS : SECONDS_THEN_ITEMS).length
        + body.tail.length + digits + 1;
    boolean first = true;
    List<PolicyDecision> policies = decision.policies();
    for (int i = 0, n = policies.size(); i < n; i++) {
      byte[] item = refusedItem(policies.get(i));
      if (item != null) {
        length += first ? item.length : item.length + 1;
        first = false;
      }
    }
    return length;
  }

  /**
   * The {@code items} entry of one policy's answer in a 429 body, or null when it has none (shadow,
   * allowed, a store error, or a limit without an item): {@link #quotaExceededLength} and {@link
   * #writeQuotaExceeded} must pick exactly the same entries.
   */
  private static byte[] refusedItem(PolicyDecision pd) {
    if (pd.shadow() || pd.allowed() || pd.storeError()) {
      return null;
    }
    return of(pd.policy()).itemJson(pd.limitIndex());
  }

  /** Writes the body of {@link #quotaExceeded} to {@code buf}: {@link #quotaExceededLength} bytes. */
  static void writeQuotaExceeded(ByteBuf buf, Decision decision, PolicyDecision denying, long retryAfter) {
    Body body = denying == null ? NO_LIMIT : of(denying.policy()).body(denying);
    buf.writeBytes(body.head);
    writeDecimal(buf, retryAfter);
    buf.writeBytes(retryAfter == 1 ? ONE_SECOND_THEN_ITEMS : SECONDS_THEN_ITEMS);
    boolean first = true;
    List<PolicyDecision> policies = decision.policies();
    for (int i = 0, n = policies.size(); i < n; i++) {
      byte[] item = refusedItem(policies.get(i));
      if (item != null) {
        if (!first) {
          buf.writeByte(',');
        }
        buf.writeBytes(item);
        first = false;
      }
    }
    buf.writeBytes(body.tail);
    writeDecimal(buf, retryAfter);
    buf.writeByte('}');
  }

  /** The {@code RateLimit-Policy} value: every limit of the policy. */
  AsciiString policyField() {
    return policyField;
  }

  /** {@code X-RateLimit-Limit} of limit {@code index}: its quantity. */
  AsciiString quantity(int index) {
    return quantity[index];
  }

  /**
   * The {@code RateLimit} value of limit {@code index}, e.g. {@code "login/1";r=0;t=12}; negative
   * numbers are sent as 0.
   */
  AsciiString rateLimitField(int index, long remaining, long resetSeconds) {
    long r = Math.max(0, remaining);
    long t = Math.max(0, resetSeconds);
    if (r == 0 && t < CACHED_RESETS) {
      AsciiString[] cached = exhausted[index];
      AsciiString value = cached[(int) t];
      if (value == null) {
        // Racy on purpose, like NUMBERS: an AsciiString is immutable (final fields).
        value = rateLimitValue(index, 0, t);
        cached[(int) t] = value;
      }
      return value;
    }
    return rateLimitValue(index, r, t);
  }

  private AsciiString rateLimitValue(int index, long r, long t) {
    byte[] start = rateLimitStart[index];
    byte[] value = new byte[start.length + digits(r) + 3 + digits(t)];
    System.arraycopy(start, 0, value, 0, start.length);
    int end = putDecimal(value, start.length, r);
    value[end] = ';';
    value[end + 1] = 't';
    value[end + 2] = '=';
    putDecimal(value, end + 3, t);
    return new AsciiString(value, false);
  }

  /** The decimal text of {@code value}; small non-negative values are shared. */
  static AsciiString number(long value) {
    if (value < 0 || value >= NUMBERS.length) {
      return new AsciiString(Long.toString(value));
    }
    // Racy on purpose: a racing first use builds an equal value twice, and an AsciiString is
    // immutable (final fields), so any thread that sees the reference sees the whole value.
    AsciiString text = NUMBERS[(int) value];
    if (text == null) {
      text = new AsciiString(Long.toString(value));
      NUMBERS[(int) value] = text;
    }
    return text;
  }

  /** The item of limit {@code index} as a JSON string, or null when the policy has no such limit. */
  private byte[] itemJson(int index) {
    return index >= 0 && index < itemJson.length ? itemJson[index] : null;
  }

  private Body body(PolicyDecision denying) {
    int index = denying.limitIndex();
    // No such limit (a malformed decision): the body names the policy and an empty limit.
    return index >= 0 && index < bodies.length ? bodies[index] : body(denying.policy().name(), "");
  }

  /**
   * The constant parts of a 429 body naming {@code policy} and {@code limit}: {@code head} ends in
   * the detail sentence just before the retry-after digits, {@code tail} starts at the closing
   * bracket of {@code violated-policies} and ends before the {@code retry_after} digits.
   */
  private static Body body(String policy, String limit) {
    // Jackson escapes a string character by character, so the detail's escaped text is the
    // escaped prefix, the digits and the ASCII rest, written one after the other.
    byte[] head = concat(BODY_START,
        openJsonText("Rate limit \"" + limit + "\" of policy \"" + policy + "\" exceeded; retry in "));
    byte[] tail = concat(ascii("],\"policy\":"), json(policy), ascii(",\"limit\":"), json(limit), THEN_RETRY_AFTER);
    return new Body(head, tail);
  }

  private record Body(byte[] head, byte[] tail) {}

  static void writeDecimal(ByteBuf buf, long value) {
    int n = digits(value);
    buf.ensureWritable(n);
    int end = buf.writerIndex() + n;
    for (int i = end - 1; i >= end - n; i--) {
      buf.setByte(i, (int) ('0' + value % 10));
      value /= 10;
    }
    buf.writerIndex(end);
  }

  /** Writes non-negative {@code value} at {@code offset}; returns the index after its last digit. */
  private static int putDecimal(byte[] out, int offset, long value) {
    int end = offset + digits(value);
    for (int i = end - 1; i >= offset; i--) {
      out[i] = (byte) ('0' + value % 10);
      value /= 10;
    }
    return end;
  }

  /** Decimal digits of non-negative {@code value}. */
  private static int digits(long value) {
    int n = 1;
    while (value >= 10) {
      value /= 10;
      n++;
    }
    return n;
  }

  /** {@code text} as a JSON string, quotes included, exactly as Jackson writes it. */
  private static byte[] json(String text) {
    try {
      return JSON.writeValueAsBytes(text);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise " + text, e);
    }
  }

  private static String jsonText(String text) {
    return new String(json(text), StandardCharsets.UTF_8);
  }

  /** {@code text} as a JSON string without its closing quote: more characters follow. */
  private static byte[] openJsonText(String text) {
    byte[] quoted = json(text);
    byte[] open = new byte[quoted.length - 1];
    System.arraycopy(quoted, 0, open, 0, open.length);
    return open;
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
