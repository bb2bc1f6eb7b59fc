package dev.sluice.gateway.proxy;

import dev.sluice.request.RequestView;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.HttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;

/**
 * The start of a request body read before deciding, for policies that identify clients by a body
 * field ({@code body:<field>}): at least {@link RequestView#BODY_PREFIX_LIMIT} bytes (plus the
 * rest of the decoder chunk that crossed it), or the whole body when shorter. The chunks are owned
 * here until they are forwarded upstream ahead of the rest of the body, or released.
 *
 * <p>Not thread-safe: used on the exchange's event loop only.
 */
final class BodyPrefix {
  private final List<HttpContent> chunks = new ArrayList<>(4);
  private int size;

  /** Adds the next chunk (owned here from now on); true once enough is read to decide on. */
  boolean add(HttpContent chunk) {
    chunks.add(chunk);
    size += chunk.content().readableBytes();
    return size >= RequestView.BODY_PREFIX_LIMIT;
  }

  /** The first {@link RequestView#BODY_PREFIX_LIMIT} bytes read (fewer when the body is shorter). */
  byte[] bytes() {
    byte[] prefix = new byte[Math.min(size, RequestView.BODY_PREFIX_LIMIT)];
    int offset = 0;
    for (HttpContent chunk : chunks) {
      if (offset == prefix.length) {
        break;
      }
      int n = Math.min(chunk.content().readableBytes(), prefix.length - offset);
      chunk.content().getBytes(chunk.content().readerIndex(), prefix, offset, n);
      offset += n;
    }
    return prefix;
  }

  /**
   * Writes the chunks to {@code upstream} (not flushed; their references pass with the writes);
   * returns whether any carried bytes. Nothing is owned here afterwards.
   */
  boolean writeTo(Channel upstream) {
    boolean bytes = false;
    for (HttpContent chunk : chunks) {
      bytes |= chunk.content().isReadable();
      upstream.write(chunk).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
    }
    chunks.clear();
    return bytes;
  }

  /** Releases the chunks not forwarded. */
  void release() {
    for (HttpContent chunk : chunks) {
      ReferenceCountUtil.release(chunk);
    }
    chunks.clear();
  }
}
