package dev.sluice.gateway.response;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;

/** The bytes an answer or a test channel puts on the wire, as text (ISO-8859-1: byte for byte). */
public final class WireText {
  private WireText() {}

  /** Everything written to {@code channel} so far, each buffer released. */
  public static String drain(EmbeddedChannel channel) {
    StringBuilder out = new StringBuilder();
    ByteBuf buf;
    while ((buf = channel.readOutbound()) != null) {
      out.append(buf.toString(StandardCharsets.ISO_8859_1));
      buf.release();
    }
    return out.toString();
  }

  /** The bytes of {@code answer}, which is released. */
  public static String of(EncodedResponse answer) {
    String text = answer.content().toString(StandardCharsets.ISO_8859_1);
    answer.release();
    return text;
  }
}
