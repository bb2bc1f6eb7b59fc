package dev.sluice.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.util.AsciiString;
import io.netty.util.CharsetUtil;

/**
 * Writes header lines the way Netty's HTTP encoders do ({@code HttpHeadersEncoder}): {@code name:
 * value\r\n}, an {@link AsciiString} copied as its bytes, any other text as US-ASCII (a character
 * outside it becomes {@code ?}). Using the same conversions is what makes {@link
 * UpstreamRequestHead} and {@link ClientResponseHead} byte-identical to the encoders they replace.
 */
final class HeadBytes {
  static final int CRLF_SHORT = ('\r' << 8) | '\n';
  private static final int COLON_SP_SHORT = (':' << 8) | ' ';

  private HeadBytes() {}

  /** One {@code name: value} line. */
  static void field(ByteBuf out, CharSequence name, CharSequence value) {
    text(out, name);
    out.writeShort(COLON_SP_SHORT);
    text(out, value);
    out.writeShort(CRLF_SHORT);
  }

  /** {@code text} as the encoders write it (see the class comment). */
  static void text(ByteBuf out, CharSequence text) {
    if (text instanceof AsciiString ascii) {
      out.writeBytes(ascii.array(), ascii.arrayOffset(), ascii.length());
    } else {
      out.writeCharSequence(text, CharsetUtil.US_ASCII);
    }
  }
}
