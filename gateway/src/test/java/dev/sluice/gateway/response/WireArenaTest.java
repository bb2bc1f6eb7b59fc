package dev.sluice.gateway.response;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WireArenaTest {

  private static byte[] answer(int n, int length) {
    byte[] bytes = new byte[length];
    for (int i = 0; i < length; i++) {
      bytes[i] = (byte) ('a' + (n + i) % 26);
    }
    return bytes;
  }

  @Test
  void copies_keepTheirBytes_acrossChunks_andAChunkIsFreedWhenItsLastAnswerIsReleased() {
    WireArena arena = new WireArena(); // a fresh one: its first chunk starts with answer 0
    List<ByteBuf> written = new ArrayList<>();
    int answers = 3 * WireArena.CHUNK / 700 + 5; // spans at least three chunks
    for (int n = 0; n < answers; n++) {
      ByteBuf scratch = arena.scratch();
      scratch.writeBytes(answer(n, 700));
      written.add(arena.copy(scratch, ByteBufAllocator.DEFAULT));
    }
    ByteBuf firstChunk = written.get(0).unwrap();
    for (int n = 0; n < answers; n++) {
      ByteBuf buf = written.get(n);
      assertThat(buf.isDirect()).isTrue();
      assertThat(ByteBufUtil.getBytes(buf)).as("answer %d", n).isEqualTo(answer(n, 700));
    }
    assertThat(written.get(answers - 1).unwrap()).as("later answers are in later chunks").isNotSameAs(firstChunk);
    // The arena has moved on from the first chunk: only its answers hold it.
    int inFirst = WireArena.CHUNK / 700;
    for (int n = 0; n < inFirst; n++) {
      assertThat(firstChunk.refCnt()).isPositive();
      written.get(n).release();
    }
    assertThat(firstChunk.refCnt()).as("freed after its last answer").isZero();
    for (int n = inFirst; n < answers; n++) {
      written.get(n).release();
    }
    arena.close();
  }

  @Test
  void anAnswerLargerThanAQuarterChunk_getsABufferOfItsOwn() {
    WireArena arena = WireArena.get();
    byte[] big = answer(1, WireArena.CHUNK / 2);
    ByteBuf buf = arena.copy(big, ByteBufAllocator.DEFAULT);
    try {
      assertThat(ByteBufUtil.getBytes(buf)).isEqualTo(big);
      assertThat(buf.capacity()).isGreaterThanOrEqualTo(big.length);
    } finally {
      buf.release();
    }
  }
}
