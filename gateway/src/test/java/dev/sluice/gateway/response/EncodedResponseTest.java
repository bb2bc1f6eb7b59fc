package dev.sluice.gateway.response;

import static dev.sluice.gateway.response.Decisions.IP;
import static dev.sluice.gateway.response.Decisions.SECOND;
import static dev.sluice.gateway.response.Decisions.allowed;
import static dev.sluice.gateway.response.Decisions.decision;
import static dev.sluice.gateway.response.Decisions.login;
import static dev.sluice.gateway.response.Decisions.pd;
import static dev.sluice.gateway.response.Decisions.search;
import static dev.sluice.gateway.response.Decisions.status;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.HeaderStyle;
import dev.sluice.engine.Decision;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.policy.Mode;
import dev.sluice.policy.OnError;
import dev.sluice.policy.Policy;
import dev.sluice.policy.Priority;
import dev.sluice.store.Ban;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseEncoder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Every answer the gateway writes in wire form ({@link EncodedResponse}) must be byte for byte what
 * Netty's {@link HttpResponseEncoder} writes for the response object it replaced: the reference is
 * that encoder on an {@link EmbeddedChannel}, fed the {@link FullHttpResponse} that {@link
 * Refusals#of} / {@link Problems} build (the decision API's answer), with {@code connection: close}
 * set the way the gateway set it, and with the body dropped for {@code HEAD}.
 */
class EncodedResponseTest {
  private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

  /** Every refusal kind: the 429 decisions of LimitTemplatesTest plus bans, caps, blocks, stores. */
  private static Map<String, Decision> refusals() {
    Map<String, Decision> all = new LinkedHashMap<>(LimitTemplatesTest.decisions());
    Policy capped = Policy.builder("uploads").paths(List.of("/upload"))
        .limits(List.of(new dev.sluice.limit.Limit(10, SECOND, 10, "10/second"))).concurrency(3).build();
    Ban ban = new Ban("527fd46acb3ddca6", "login", IP.key(), 4_102_444_800_000L, "too many failed logins", "login");
    all.put("banned, 1 second", decision(PolicyDecision.banned(login(), IP, null, ban, SECOND / 2)));
    all.put("banned, 3600 seconds", decision(PolicyDecision.banned(login(), IP, null, ban, 3600 * SECOND)));
    all.put("concurrency cap", decision(PolicyDecision.concurrencyLimited(capped, IP, allowed())));
    all.put("block list", Decision.forbidden(Decisions.client()));
    all.put("store down, fail closed", decision(PolicyDecision.storeError(search(Mode.ENFORCE), IP, OnError.DENY)));
    all.put("store full", decision(PolicyDecision.storeFull(search(Mode.ENFORCE), IP)));
    return all;
  }

  @Test
  void encoded_everyRefusalStyleCloseAndHead_isByteForByteTheReferenceEncoding() {
    int compared = 0;
    for (Map.Entry<String, Decision> entry : refusals().entrySet()) {
      Decision d = entry.getValue();
      for (HeaderStyle style : HeaderStyle.values()) {
        for (boolean close : new boolean[] {false, true}) {
          for (boolean head : new boolean[] {false, true}) {
            FullHttpResponse reference = Refusals.of(d, style, Unpooled.buffer().alloc());
            if (reference == null) {
              assertThat(Refusals.encoded(d, style, ALLOC, close)).as(entry.getKey()).isNull();
              continue;
            }
            String expected = reference(reference, close, head);
            EncodedResponse encoded = Refusals.encoded(d, style, ALLOC, close);
            if (head) {
              encoded.headOnly();
            }
            assertThat(encoded.status()).isEqualTo(Integer.parseInt(expected.substring(9, 12)));
            assertThat(encoded.closes()).isEqualTo(close);
            assertThat(WireText.of(encoded)).as("%s, %s, close=%s, head=%s", entry.getKey(), style, close, head)
                .isEqualTo(expected);
            compared++;
          }
        }
      }
    }
    assertThat(compared).isGreaterThan(100);
  }

  @Test
  void encodedTooManyRequests_unpooledAllocator_isTheSameBytes() {
    Decision d = LimitTemplatesTest.decisions().get("second of two limits, 91 seconds");
    EncodedResponse encoded = Problems.encodedTooManyRequests(d, HeaderStyle.BOTH, UnpooledByteBufAllocator.DEFAULT, false);
    assertThat(WireText.of(encoded)).isEqualTo(reference(Problems.tooManyRequests(d, HeaderStyle.BOTH), false, false));
  }

  @Test
  void constantAnswers_decisionFailedShedAndTimeout_areByteForByteTheReferenceEncoding() {
    Map<String, Supplier<FullHttpResponse>> references = new LinkedHashMap<>();
    Map<String, java.util.function.Function<Boolean, EncodedResponse>> encoded = new LinkedHashMap<>();
    references.put("decision failed", Refusals::decisionFailed);
    encoded.put("decision failed", close -> Refusals.encodedDecisionFailed(ALLOC, close));
    for (Priority priority : Priority.values()) {
      String name = priority.configName();
      references.put("shed " + name, () -> Problems.shed(name));
      encoded.put("shed " + name, close -> Refusals.encodedShed(name, ALLOC, close));
    }
    String detail = "the request head was not received within header_timeout (10s)";
    references.put("408", () -> Problems.requestTimeout(detail));
    encoded.put("408", close -> EncodedResponse.encode(Problems.requestTimeout(detail), close, ALLOC));
    for (String name : references.keySet()) {
      for (boolean close : new boolean[] {false, true}) {
        for (boolean head : new boolean[] {false, true}) {
          EncodedResponse answer = encoded.get(name).apply(close);
          if (head) {
            answer.headOnly();
          }
          assertThat(WireText.of(answer)).as("%s close=%s head=%s", name, close, head)
              .isEqualTo(reference(references.get(name).get(), close, head));
        }
      }
    }
  }

  @Test
  void withClose_keepAliveAnswer_isTheCloseEncoding() {
    Decision d = decision(pd(search(Mode.ENFORCE), Decisions.denied(0, 4 * SECOND, status(0, 4 * SECOND))));
    for (boolean head : new boolean[] {false, true}) {
      EncodedResponse open = Problems.encodedTooManyRequests(d, HeaderStyle.BOTH, ALLOC, false);
      if (head) {
        open.headOnly();
      }
      // Answers share their wire chunk's reference count (WireArena): released means one less.
      int held = open.refCnt();
      EncodedResponse closed = open.withClose(ALLOC);
      assertThat(open.refCnt()).as("the keep-alive answer was released").isEqualTo(held - 1);
      assertThat(closed.closes()).isTrue();
      assertThat(WireText.of(closed)).isEqualTo(reference(Problems.tooManyRequests(d, HeaderStyle.BOTH), true, head));
    }
    EncodedResponse already = Refusals.encodedDecisionFailed(ALLOC, true);
    assertThat(already.withClose(ALLOC)).isSameAs(already);
    already.release();
  }

  @Test
  void encoded_allowedDecision_isNothing() {
    Decision d = decision(pd(login(), allowed(status(4, SECOND), status(19, SECOND))));
    assertThat(Refusals.encoded(d, HeaderStyle.BOTH, ALLOC, false)).isNull();
  }

  /**
   * The reference: Netty's encoder on {@code response} (released), with {@code connection: close}
   * set as the gateway's {@code answerAndClose} sets it, and for HEAD the body replaced by an
   * empty one as the gateway's {@code reject} did.
   */
  private static String reference(FullHttpResponse response, boolean close, boolean head) {
    if (close) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    if (head) {
      FullHttpResponse bodyless = response.replace(Unpooled.EMPTY_BUFFER);
      response.release();
      response = bodyless;
    }
    EmbeddedChannel channel = new EmbeddedChannel(new HttpResponseEncoder());
    channel.writeOutbound(response);
    String out = WireText.drain(channel);
    channel.finishAndReleaseAll();
    return out;
  }
}
