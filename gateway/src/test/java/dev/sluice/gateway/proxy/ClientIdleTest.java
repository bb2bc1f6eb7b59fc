package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The client connection's keep-alive idle timer, on the embedded event loop's frozen clock. */
class ClientIdleTest {
  private final List<Object> events = new ArrayList<>();
  private final EmbeddedChannel channel = new EmbeddedChannel();

  ClientIdleTest() {
    channel.freezeTime();
    channel.pipeline().addLast("idle", new ClientIdle(TimeUnit.SECONDS.toNanos(1)));
    channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
      @Override
      public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        events.add(evt);
      }
    });
  }

  private void advanceMillis(long millis) {
    channel.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
  }

  @Test
  void quietConnection_firesAllIdleAfterTheIdleTime_andAgainEveryIdleTime() {
    advanceMillis(999);
    assertThat(events).isEmpty();

    advanceMillis(2);
    assertThat(events).containsExactly(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT);

    advanceMillis(1000);
    assertThat(events).containsExactly(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT, IdleStateEvent.ALL_IDLE_STATE_EVENT);
  }

  @Test
  void writeWithAVoidPromise_restartsTheIdleTime() {
    advanceMillis(600);
    channel.writeAndFlush("response bytes", channel.voidPromise());

    advanceMillis(401);
    assertThat(events).as("1 s since the start, 0.4 s since the write").isEmpty();
    advanceMillis(600);
    assertThat(events).containsExactly(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT);
    assertThat((Object) channel.readOutbound()).isEqualTo("response bytes");
  }

  @Test
  void read_restartsTheIdleTime() {
    advanceMillis(600);
    channel.writeInbound("request bytes");

    advanceMillis(401);
    assertThat(events).isEmpty();
    advanceMillis(600);
    assertThat(events).containsExactly(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT);
  }

  @Test
  void replacedHandler_firesNothingMore() {
    channel.pipeline().replace("idle", "idle", new ChannelInboundHandlerAdapter());

    advanceMillis(5000);
    assertThat(events).isEmpty();
  }
}
