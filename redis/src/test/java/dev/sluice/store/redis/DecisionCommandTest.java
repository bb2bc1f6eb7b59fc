package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.Limit;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.StoreException;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.protocol.CommandArgs;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class DecisionCommandTest {
  private static final BucketSpec TWO_LIMITS = new BucketSpec(Algorithm.GCRA,
      List.of(Limit.of(5, Duration.ofMinutes(1)), new Limit(20, Duration.ofHours(1).toNanos(), 30, null)));
  private static final BucketKey KEY = new BucketKey("login", "header:x-user:žluť{}");

  @Test
  void args_preEncoded_matchLettucesOwnEncodingOfTheSameArguments() {
    DecisionCommand command = new DecisionCommand(DecisionScript.INSTANCE);
    DecisionCommand.Args ours = command.args(KEY, command.prepare(TWO_LIMITS, 2), false);

    String[] keys = RedisKeys.keys(KEY, TWO_LIMITS);
    CommandArgs<String, String> lettuce = new CommandArgs<>(StringCodec.UTF8)
        .add(DecisionScript.INSTANCE.sha()).add(keys.length).addKeys(keys)
        .addValues(DecisionScript.INSTANCE.args(TWO_LIMITS, 2, null));

    assertThat(ours.count()).isEqualTo(lettuce.count());
    assertThat(encode(ours)).isEqualTo(encode(lettuce));
    assertThat(ours.getFirstEncodedKey()).isEqualTo(lettuce.getFirstEncodedKey());
  }

  @Test
  void prepare_sameSpecAndCost_isCachedByIdentity() {
    DecisionCommand command = new DecisionCommand(DecisionScript.INSTANCE);
    assertThat(command.prepare(TWO_LIMITS, 1)).isSameAs(command.prepare(TWO_LIMITS, 1));
    assertThat(command.prepare(TWO_LIMITS, 2)).isNotSameAs(command.prepare(TWO_LIMITS, 1));
  }

  @Test
  void prepare_costAboveBurst_isRejectedEveryTime() {
    DecisionCommand command = new DecisionCommand(DecisionScript.INSTANCE);
    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(() -> command.prepare(TWO_LIMITS, 6)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void consumption_replyOfWrongShape_isAStoreException() {
    DecisionCommand.Reply reply = new DecisionCommand.Reply();
    reply.multi(3);
    reply.set(1);
    reply.set(-1);
    reply.set(0);
    assertThatThrownBy(() -> DecisionCommand.consumption(reply, 1))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("[1, -1, 0]");

    DecisionCommand.Reply text = new DecisionCommand.Reply();
    text.set(StandardCharsets.UTF_8.encode("OK"));
    assertThatThrownBy(() -> DecisionCommand.consumption(text, 1)).isInstanceOf(StoreException.class);
  }

  @Test
  void consumption_oneLimit_readsTheNumbers() {
    DecisionCommand.Reply reply = new DecisionCommand.Reply();
    reply.multi(6);
    for (long v : new long[] {0, 0, 70, 0, 100, 1000}) {
      reply.set(v);
    }
    var consumption = DecisionCommand.consumption(reply, 1);
    assertThat(consumption.allowed()).isFalse();
    assertThat(consumption.deniedLimit()).isZero();
    assertThat(consumption.retryAfterNanos()).isEqualTo(70);
    assertThat(consumption.limit(0).remaining()).isZero();
  }

  private static String encode(CommandArgs<String, String> args) {
    ByteBuf buf = Unpooled.buffer();
    args.encode(buf);
    return buf.toString(StandardCharsets.UTF_8);
  }
}
