package dev.sluice.store.redis;

import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.LimitStatus;
import dev.sluice.store.StoreException;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.CommandOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One decision as a hand-encoded {@code EVALSHA} of {@code decide.lua} — the Redis store's hot
 * path, so built for it.
 *
 * <p>Why not Lettuce's {@code evalsha(...)}: in production every ARGV of a decision depends only on
 * the bucket spec and the cost (the time arguments are empty: the script reads the server's TIME),
 * so they are encoded to RESP once per (spec, cost) and written as one byte array, and the key
 * suffixes ({@code gcra:N/period/B}) are built once too; per request only the key is encoded. The
 * reply is read straight into a {@code long[]} instead of a list of boxed {@code Long}s. The bytes
 * on the wire are exactly those of {@code EVALSHA sha numkeys keys... args...}.
 *
 * <p>Thread-safe: the cache of prepared specs is copy-on-write with identity lookups (the engine
 * keeps one {@link BucketSpec} per policy), bounded by {@link #CACHE_SIZE}, slots reused in turn.
 */
final class DecisionCommand {

  /** Prepared (spec, cost) pairs kept; policies are few, a reload makes new specs. */
  static final int CACHE_SIZE = 64;

  private static final byte[] CRLF = {'\r', '\n'};

  /** {@code $40\r\n<sha>\r\n}: the EVALSHA script argument. */
  private final byte[] shaBulk;
  /** The script source as a bulk string, for the EVAL after a {@code NOSCRIPT} reply. */
  private final byte[] sourceBulk;

  private volatile Prepared[] cache = new Prepared[0];
  private int nextSlot; // guarded by this

  DecisionCommand(DecisionScript script) {
    this.shaBulk = bulk(script.sha().getBytes(StandardCharsets.US_ASCII));
    this.sourceBulk = bulk(script.source().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The ARGV and key suffixes of one (spec, cost), validated once.
   *
   * @param argv the ARGV as RESP bulk strings, back to back
   * @param keySuffixes per limit, what follows the bucket's hash tag ({@code gcra:N/period/B})
   */
  record Prepared(BucketSpec spec, long cost, byte[] argv, int argc, String[] keySuffixes, BucketSpec previous) {
    Prepared(BucketSpec spec, long cost, byte[] argv, int argc, String[] keySuffixes) {
      this(spec, cost, argv, argc, keySuffixes, null);
    }

    /** Limits of the bucket (the keys beyond them are migration sources). */
    int limits() {
      return spec.limits().size();
    }
  }

  /**
   * The prepared arguments of (spec, cost) with the server's TIME (production), cached.
   *
   * @throws StoreException when a limit exceeds what the script computes exactly
   * @throws IllegalArgumentException when the cost is out of range for a limit
   */
  Prepared prepare(BucketSpec spec, long cost) {
    return prepare(spec, cost, (BucketSpec) null);
  }

  /**
   * {@link #prepare(BucketSpec, long)} for a policy whose limits a reload changed from {@code
   * previous} (null: none): missing keys of changed limits take their state from the old keys.
   */
  Prepared prepare(BucketSpec spec, long cost, BucketSpec previous) {
    Prepared[] current = cache;
    for (Prepared p : current) {
      if (p.spec == spec && p.cost == cost && p.previous == previous) {
        return p;
      }
    }
    Prepared made = prepare(spec, cost, null, previous);
    synchronized (this) {
      Prepared[] now = cache;
      Prepared[] next;
      if (now.length < CACHE_SIZE) {
        next = Arrays.copyOf(now, now.length + 1);
        next[now.length] = made;
      } else {
        next = now.clone();
        next[nextSlot] = made;
        nextSlot = (nextSlot + 1) % CACHE_SIZE;
      }
      cache = next;
    }
    return made;
  }

  /** Prepared arguments for one call, uncached: a test's clock changes the time arguments. */
  Prepared prepare(BucketSpec spec, long cost, DecisionScript.TestTime testTime) {
    return prepare(spec, cost, testTime, null);
  }

  /** Prepared arguments for one call with a test clock and a migration source (either may be null). */
  Prepared prepare(BucketSpec spec, long cost, DecisionScript.TestTime testTime, BucketSpec previous) {
    String[] args = DecisionScript.INSTANCE.args(spec, cost, testTime, previous);
    ByteBuf out = Unpooled.buffer();
    for (String arg : args) {
      writeBulk(out, arg.getBytes(StandardCharsets.UTF_8));
    }
    byte[] argv = ByteBufUtil.getBytes(out);
    String[] suffixes = RedisKeys.suffixes(spec);
    int[] from = DecisionScript.sources(spec, previous);
    if (from != null) {
      String[] old = RedisKeys.suffixes(previous);
      String[] all = Arrays.copyOf(suffixes, 2 * suffixes.length);
      for (int i = 0; i < from.length; i++) {
        all[suffixes.length + i] = from[i] < 0 ? suffixes[i] : old[from[i]];
      }
      suffixes = all;
    }
    return new Prepared(spec, cost, argv, args.length, suffixes, previous);
  }

  /** The arguments of {@code EVALSHA} (or, with {@code withSource}, of {@code EVAL}). */
  Args args(BucketKey key, Prepared prepared, boolean withSource) {
    return new Args(withSource ? sourceBulk : shaBulk, RedisKeys.keys(key, prepared.keySuffixes()),
        prepared.argv(), prepared.argc());
  }

  /** Command arguments written as prepared bytes; the keys are also added for cluster routing. */
  static final class Args extends CommandArgs<String, String> {
    private final byte[] script;
    private final String[] keys;
    private final byte[] argv;
    private final int argc;

    Args(byte[] script, String[] keys, byte[] argv, int argc) {
      super(StringCodec.UTF8);
      this.script = script;
      this.keys = keys;
      this.argv = argv;
      this.argc = argc;
      for (String key : keys) {
        addKey(key); // Lettuce reads the first key to pick a cluster node
      }
    }

    String[] keys() {
      return keys;
    }

    @Override
    public int count() {
      return 2 + keys.length + argc;
    }

    @Override
    public void encode(ByteBuf buf) {
      buf.writeBytes(script);
      writeNumber(buf, keys.length);
      for (String key : keys) {
        buf.writeByte('$');
        writeDigits(buf, ByteBufUtil.utf8Bytes(key));
        buf.writeBytes(CRLF);
        ByteBufUtil.writeUtf8(buf, key);
        buf.writeBytes(CRLF);
      }
      buf.writeBytes(argv);
    }
  }

  /**
   * The script's reply as numbers: an array of integers and nothing else, else {@code null} from
   * {@link #get()} (a malformed reply). Error replies are Lettuce's to report.
   */
  static final class Reply extends CommandOutput<String, String, long[]> {
    private int filled;
    private int depth;
    private boolean malformed;
    private String seen = "";

    Reply() {
      super(StringCodec.UTF8, null);
    }

    @Override
    public void multi(int count) {
      if (depth++ > 0 || output != null || count < 0) {
        malform("a nested or second array");
        return;
      }
      output = new long[count];
    }

    @Override
    public void set(long value) {
      if (output == null || filled >= output.length) {
        malform(Long.toString(value));
        return;
      }
      output[filled++] = value;
    }

    @Override
    public void set(ByteBuffer bytes) {
      malform(bytes == null ? "nil" : '"' + decodeString(bytes) + '"');
    }

    @Override
    public void setSingle(ByteBuffer bytes) {
      set(bytes);
    }

    @Override
    public void setBigNumber(ByteBuffer bytes) {
      set(bytes);
    }

    @Override
    public void set(double number) {
      malform(Double.toString(number));
    }

    @Override
    public void set(boolean value) {
      malform(Boolean.toString(value));
    }

    private void malform(String what) {
      malformed = true;
      if (seen.length() < 200) {
        seen += (seen.isEmpty() ? "" : ", ") + what;
      }
    }

    /** The numbers, or null when the reply was not one array of integers. */
    @Override
    public long[] get() {
      return malformed || output == null || filled != output.length ? null : output;
    }

    /** What was received, for the error message of a malformed reply. */
    String describe() {
      long[] partial = output == null ? new long[0] : Arrays.copyOf(output, filled);
      return Arrays.toString(partial) + (seen.isEmpty() ? "" : " with " + seen);
    }
  }

  /** Turns the script's numbers into a {@link Consumption}; a malformed reply is a StoreException. */
  static Consumption consumption(Reply reply, int limits) {
    long[] values = reply.get();
    if (values == null || values.length != 3 + 3 * limits) {
      throw new StoreException(RedisMessages.unexpectedReply(reply.describe()));
    }
    return consumption(values, limits);
  }

  /** {@link #consumption(Reply, int)} of a reply already checked to hold {@code 3 + 3 * limits} numbers. */
  static Consumption consumption(long[] values, int limits) {
    boolean allowed = values[0] == 1;
    if (limits == 1 && (allowed || values[1] == 0)) {
      return Consumption.ofOne(allowed, allowed ? 0 : values[2], values[3], values[4], values[5]);
    }
    List<LimitStatus> all = new ArrayList<>(limits);
    for (int i = 0; i < limits; i++) {
      all.add(new LimitStatus(values[3 + 3 * i], values[4 + 3 * i], values[5 + 3 * i]));
    }
    List<LimitStatus> statuses = List.copyOf(all);
    return new Consumption(allowed, allowed ? -1 : (int) values[1], allowed ? 0 : values[2], statuses);
  }

  private static byte[] bulk(byte[] value) {
    ByteBuf out = Unpooled.buffer(value.length + 16);
    writeBulk(out, value);
    return ByteBufUtil.getBytes(out);
  }

  private static void writeBulk(ByteBuf out, byte[] value) {
    out.writeByte('$');
    writeDigits(out, value.length);
    out.writeBytes(CRLF);
    out.writeBytes(value);
    out.writeBytes(CRLF);
  }

  /** A non-negative number as a bulk string ({@code $len\r\ndigits\r\n}). */
  private static void writeNumber(ByteBuf out, int value) {
    out.writeByte('$');
    writeDigits(out, digits(value));
    out.writeBytes(CRLF);
    writeDigits(out, value);
    out.writeBytes(CRLF);
  }

  private static int digits(int value) {
    int n = 1;
    for (int v = value; v >= 10; v /= 10) {
      n++;
    }
    return n;
  }

  /** The decimal digits of a non-negative int, without a String. */
  private static void writeDigits(ByteBuf out, int value) {
    if (value < 10) {
      out.writeByte('0' + value);
      return;
    }
    int n = digits(value);
    int at = out.writerIndex();
    out.ensureWritable(n);
    for (int i = n - 1, v = value; i >= 0; i--, v /= 10) {
      out.setByte(at + i, '0' + v % 10);
    }
    out.writerIndex(at + n);
  }
}
