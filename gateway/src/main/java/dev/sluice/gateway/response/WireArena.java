package dev.sluice.gateway.response;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * Where the gateway's own answers (the 429 above all) are written: per thread, a heap scratch
 * buffer to compose an answer in, and a direct chunk the finished bytes are copied to, handed out
 * as slices that share the chunk's reference count.
 *
 * <p>Design. Under a one-client flood nearly every request is answered with a 429 of a few hundred
 * bytes. Taking each one's buffer from the channel's pooling allocator cost more than writing it
 * (Netty's adaptive allocator takes its buffer objects from a shared recycler queue: about a tenth
 * of the gateway's CPU in the flood profile, docs/benchmarks.md G2). Here an answer costs a copy
 * into the current chunk, one small slice object and an uncontended reference-count increment; a
 * new chunk ({@value #CHUNK} bytes, unpooled direct memory, so the transport writes it without
 * another copy) is taken when the current one is full, and its memory is freed when the arena and
 * the last slice written from it have let go of it.
 *
 * <p>Memory bound: a chunk stays allocated while any of its answers is still queued on a
 * connection, so a client that stops reading pins at most one chunk ({@value #CHUNK} bytes) per
 * connection with an unsent answer; answers longer than a quarter chunk get a buffer of their own.
 *
 * <p>Threading: each thread has its own arena (a Netty fast thread-local on the event loops); a
 * slice may be released on any thread.
 */
final class WireArena {
  /** Bytes per chunk: about 25 flood answers. */
  static final int CHUNK = 16 * 1024;

  private static final FastThreadLocal<WireArena> LOCAL = new FastThreadLocal<>() {
    @Override
    protected WireArena initialValue() {
      return new WireArena();
    }

    @Override
    protected void onRemoval(WireArena arena) {
      arena.close();
    }
  };

  private final ByteBuf scratch = Unpooled.buffer(1024);
  private ByteBuf chunk;

  WireArena() {}

  /** This thread's arena. */
  static WireArena get() {
    return LOCAL.get();
  }

  /** The empty scratch buffer to compose an answer in (valid until the next call on this thread). */
  ByteBuf scratch() {
    return scratch.clear();
  }

  /**
   * A buffer holding the readable bytes of {@code bytes} (typically {@link #scratch()}), which the
   * caller owns and releases (writing it releases it). {@code alloc} is used only for answers too
   * large to share a chunk.
   */
  ByteBuf copy(ByteBuf bytes, ByteBufAllocator alloc) {
    int length = bytes.readableBytes();
    if (length > CHUNK / 4) {
      return alloc.buffer(length).writeBytes(bytes, bytes.readerIndex(), length);
    }
    ByteBuf c = chunk;
    if (c == null || c.writableBytes() < length) {
      if (c != null) {
        c.release(); // freed once the slices still queued from it are written
      }
      c = UnpooledByteBufAllocator.DEFAULT.directBuffer(CHUNK, CHUNK);
      chunk = c;
    }
    int start = c.writerIndex();
    c.writeBytes(bytes, bytes.readerIndex(), length);
    return c.retainedSlice(start, length);
  }

  /** {@link #copy(ByteBuf, ByteBufAllocator)} of an array. */
  ByteBuf copy(byte[] bytes, ByteBufAllocator alloc) {
    return copy(Unpooled.wrappedBuffer(bytes), alloc);
  }

  /** Lets go of the current chunk (its memory is freed once its answers are released). */
  void close() {
    if (chunk != null) {
      chunk.release();
      chunk = null;
    }
  }
}
