package dev.sluice.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/**
 * The guard's two rules, on an in-memory channel: a {@code read()} issued once close began never
 * reaches the transport, and closing withdraws auto-read first (what clears a pending read on an
 * io_uring channel). The io_uring behaviour they prevent is exercised over real sockets by
 * TransportsEndToEndTest.
 */
class IoUringCloseGuardTest {

  /** Counts the reads that get past the guard, i.e. would reach the transport. */
  private static final class ReadsAtTheTransport extends ChannelOutboundHandlerAdapter {
    int reads;

    @Override
    public void read(ChannelHandlerContext ctx) {
      reads++;
      ctx.read();
    }
  }

  @Test
  void readsPassUntilClose_thenAreDropped_andCloseClearsAutoRead() {
    ReadsAtTheTransport transport = new ReadsAtTheTransport();
    EmbeddedChannel channel = new EmbeddedChannel();
    channel.pipeline().addFirst(transport).addAfter(channel.pipeline().firstContext().name(), "guard",
        new IoUringCloseGuard());
    channel.config().setAutoRead(true);
    int before = transport.reads;
    channel.read();
    assertThat(transport.reads).isEqualTo(before + 1);

    channel.close();
    int atClose = transport.reads;
    assertThat(channel.config().isAutoRead()).as("auto-read withdrawn by the close").isFalse();

    // An io_uring channel may still be open here (its close waits for a write in flight).
    channel.read();
    channel.config().setAutoRead(true); // would issue a read
    assertThat(transport.reads).as("reads after close began").isEqualTo(atClose);
  }

  @Test
  void closeWithAutoReadOff_stillDropsTheReadItsToggleIssues() {
    ReadsAtTheTransport transport = new ReadsAtTheTransport();
    EmbeddedChannel channel = new EmbeddedChannel();
    channel.config().setAutoRead(false);
    channel.pipeline().addFirst(transport).addAfter(channel.pipeline().firstContext().name(), "guard",
        new IoUringCloseGuard());
    int before = transport.reads;
    channel.close();
    assertThat(transport.reads).isEqualTo(before);
    assertThat(channel.config().isAutoRead()).isFalse();
  }
}
