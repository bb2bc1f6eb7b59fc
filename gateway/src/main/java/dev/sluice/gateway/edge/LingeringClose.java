package dev.sluice.gateway.edge;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.socket.DuplexChannel;
import java.util.concurrent.TimeUnit;

/**
 * Closing a connection after an answer while the client may still be sending (its request body,
 * or more requests): nginx's "lingering close". Closing a socket whose input holds unread bytes
 * makes the kernel send a reset instead of an orderly end, and a reset that reaches the client
 * before it has read the answer discards it: the client sees "connection reset" instead of the
 * {@code 413} or {@code 429} it was sent. So the answer is written, the output shut down (the
 * client reads the answer, then the end of the stream), the input is still read — the pipeline
 * discards it — and the connection is closed when the client closes its side or after {@link
 * #LINGER_MILLIS}, whichever comes first.
 */
public final class LingeringClose {
  /** How long a client that keeps sending after its answer is read and ignored (nginx: 5 s). */
  public static final long LINGER_MILLIS = 2_000;

  private LingeringClose() {}

  /** Closes {@code written}'s channel the lingering way once the write completes. */
  public static void after(ChannelFuture written) {
    Channel channel = written.channel();
    written.addListener(w -> {
      if (!w.isSuccess() || !(channel instanceof DuplexChannel duplex) || !channel.isActive()) {
        channel.close();
        return;
      }
      channel.config().setAutoRead(true); // the input must be drained, not left to fill up
      duplex.shutdownOutput().addListener(s -> {
        if (!s.isSuccess()) {
          channel.close();
          return;
        }
        // A half-closed input ends the channel by itself (half-closure is not allowed).
        var timer = channel.eventLoop().schedule(() -> {
          channel.close();
        }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
        channel.closeFuture().addListener(c -> timer.cancel(false));
      });
    });
  }
}
