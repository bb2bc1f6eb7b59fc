package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.response.Refusals;
import dev.sluice.gateway.response.WireText;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

/**
 * An answer in wire form goes through the client pipeline's drain tracker and encoder as the bytes
 * it is, ends the exchange for the drain count, and gets {@code connection: close} (then the
 * connection closes) while the gateway drains, also when written with the void promise.
 */
class EncodedAnswerPipelineTest {

  @Test
  void encodedAnswer_notDraining_passesAsItsBytesAndEndsTheExchange() {
    Drain drain = new Drain();
    EmbeddedChannel channel = new EmbeddedChannel(new ResponseEncoder(), drain.tracker());
    channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/x"));
    assertThat(drain.inProgress()).isEqualTo(1);
    String expected = WireText.of(Refusals.encodedDecisionFailed(channel.alloc(), false));

    channel.writeAndFlush(Refusals.encodedDecisionFailed(channel.alloc(), false), channel.voidPromise());

    assertThat(WireText.drain(channel)).isEqualTo(expected).startsWith("HTTP/1.1 503 Service Unavailable\r\n")
        .doesNotContain("connection:");
    assertThat(drain.inProgress()).isZero();
    assertThat(channel.isOpen()).isTrue();
    channel.finishAndReleaseAll();
  }

  @Test
  void encodedAnswer_whileDraining_getsConnectionCloseAndCloses() {
    Drain drain = new Drain();
    EmbeddedChannel channel = new EmbeddedChannel(new ResponseEncoder(), drain.tracker());
    channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/x"));
    drain.start();
    channel.runPendingTasks();
    assertThat(channel.isOpen()).isTrue(); // busy: closes after its response
    String expected = WireText.of(Refusals.encodedDecisionFailed(channel.alloc(), true));

    channel.writeAndFlush(Refusals.encodedDecisionFailed(channel.alloc(), false), channel.voidPromise());

    assertThat(WireText.drain(channel)).isEqualTo(expected).contains("connection: close\r\n\r\n");
    assertThat(drain.inProgress()).isZero();
    channel.runPendingTasks();
    assertThat(channel.isOpen()).isFalse();
    channel.finishAndReleaseAll();
  }
}
