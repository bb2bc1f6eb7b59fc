package dev.sluice.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.CharsetUtil;
import java.util.Iterator;
import java.util.Map;

/**
 * Writes a forwarded body's {@link HttpContent}s after an {@link EncodedHead}, with the bytes
 * Netty's HTTP encoders write in the same state ({@code UpstreamHeadsTest} compares them): as they
 * are for a body framed by {@code Content-Length} (or none), else as chunks — {@code hex-size CRLF
 * data CRLF}, and at the end {@code 0 CRLF}, the trailer fields, {@code CRLF}.
 *
 * <p>A chunk of up to {@value #COPY_LIMIT} bytes is copied into one buffer with its framing;
 * a larger one is written as its own buffer between two small ones, the first two with the void
 * promise (a failure still closes the connection via {@code exceptionCaught}) and the last with
 * the caller's, so the caller hears once, when the whole chunk is written.
 */
final class BodyFraming {
  /** Chunks up to this size are copied next to their framing (one buffer, one write). */
  static final int COPY_LIMIT = 1024;

  private BodyFraming() {}

  /** Writes {@code content} (its reference passes on or is released here). */
  static void write(ChannelHandlerContext ctx, HttpContent content, boolean chunked, ChannelPromise promise) {
    ByteBuf data = content.content();
    if (!chunked) {
      // Trailers have no place without chunked framing; Netty's encoders drop them too.
      ctx.write(data, promise);
      return;
    }
    int size = data.readableBytes();
    boolean last = content instanceof LastHttpContent;
    if (size == 0 && !last) {
      ctx.write(data, promise);
      return;
    }
    ByteBuf tail;
    if (size > COPY_LIMIT) {
      ByteBuf prefix = ctx.alloc().buffer(10);
      chunkSize(prefix, size);
      ctx.write(prefix, ctx.voidPromise());
      ctx.write(data.retain(), ctx.voidPromise());
      tail = ctx.alloc().buffer(last ? 64 : 2);
      tail.writeShort(HeadBytes.CRLF_SHORT);
    } else {
      tail = ctx.alloc().buffer(size + (last ? 80 : 12));
      if (size > 0) {
        chunkSize(tail, size);
        tail.writeBytes(data, data.readerIndex(), size);
        tail.writeShort(HeadBytes.CRLF_SHORT);
      }
    }
    if (last) {
      tail.writeByte('0');
      tail.writeShort(HeadBytes.CRLF_SHORT);
      HttpHeaders trailers = ((LastHttpContent) content).trailingHeaders();
      for (Iterator<Map.Entry<CharSequence, CharSequence>> it = trailers.iteratorCharSequence(); it.hasNext(); ) {
        Map.Entry<CharSequence, CharSequence> field = it.next();
        HeadBytes.field(tail, field.getKey(), field.getValue());
      }
      tail.writeShort(HeadBytes.CRLF_SHORT);
    }
    content.release();
    ctx.write(tail, promise);
  }

  private static void chunkSize(ByteBuf out, int size) {
    out.writeCharSequence(Integer.toHexString(size), CharsetUtil.US_ASCII);
    out.writeShort(HeadBytes.CRLF_SHORT);
  }
}
