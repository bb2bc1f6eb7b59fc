package dev.sluice.gateway.transport;

import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;

/**
 * Keeps an io_uring channel (Netty 4.2.18) from arming a read once its close has begun. Such a
 * channel cancels its reads and polls at once but may close later (after a write in flight); a poll
 * armed in between is never cancelled, holds the socket open (no FIN reaches the peer) and, when
 * the peer stays silent, makes the event loop wait for it forever when it shuts down. Two ways in,
 * both seen in io_uring traces (TransportsEndToEndTest, DecisionWithGatewayTest):
 *
 * <ul>
 *   <li>a {@code read()} after {@code close()}: dropped here;
 *   <li>a read requested before {@code close()} (auto-read) whose cancelled receive Netty re-arms
 *       as a poll: clearing auto-read before closing withdraws the request first.
 * </ul>
 *
 * <p>Only closes that travel the pipeline pass here; {@link Transports#stop} closes
 * every guarded channel that way before it stops the loops, so the loops' own teardown finds none
 * open. Epoll and NIO close at once and need none of this.
 */
final class IoUringCloseGuard extends ChannelOutboundHandlerAdapter {
  private boolean closing;

  @Override
  public void read(ChannelHandlerContext ctx) {
    if (!closing) {
      ctx.read();
    }
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    if (!closing) {
      closing = true;
      ChannelConfig config = ctx.channel().config();
      if (!config.isAutoRead()) {
        config.setAutoRead(true); // its read() is dropped above; the next line clears a pending one
      }
      config.setAutoRead(false);
    }
    ctx.close(promise);
  }
}
