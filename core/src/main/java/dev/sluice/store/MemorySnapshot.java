package dev.sluice.store;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.Limit;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The memory store's snapshot ({@code store.snapshot}, SPEC §9 "a restart loses nothing"): bans,
 * offence records and every bucket that is not full, written when the gateway stops (after the
 * drain) and read when it starts, so a restart neither ends an attacker's ban nor gives anyone a
 * fresh burst.
 *
 * <p>Format, version 1 (all numbers big-endian):
 *
 * <pre>
 * "SLUICE-MEMORY-SNAPSHOT\n"   magic, 23 bytes
 * int    format version (1)
 * long   written at, epoch milliseconds (wall clock)
 * int    payload length in bytes
 * bytes  payload
 * 32     SHA-256 of the payload
 * payload: int bans,      then per ban: id, scope, identity (UTF), long expiry epoch ms, reason (UTF)
 *          int offences,  then per key: key (UTF), long window ns, int n, n × long age ns
 *          int buckets,   then per bucket: policy, identity (UTF), byte algorithm (0 gcra, 1 window),
 *                         int limits, per limit: long N, long period ns, long burst, then
 *                         gcra: long debt ns | window: int n, n × long age ns
 * </pre>
 *
 * <p>Times are relative to the moment of writing; at read time they are aged by the wall-clock time
 * that passed (a clock that went back counts as none), so a bucket that would have refilled while
 * the process was down is full. Bans keep their absolute expiry.
 *
 * <p>Bounds: a snapshot is at most {@code maxBytes} (bans first, then offence records, then buckets
 * in map order; what does not fit is left out and counted), writing and reading each stop after {@code budget}
 * (what was done is kept), and a restore never exceeds the store's {@code max_keys}. A file that is
 * missing, too large, truncated, of another format or version, or whose checksum does not match is
 * ignored as a whole: {@link Report#ignored()} says why, for a warning; the store starts empty.
 *
 * <p>Writing goes to a temporary file in the same folder, then an atomic rename, so a crash while
 * writing leaves the previous snapshot (or none), never half a file.
 */
public final class MemorySnapshot {
  /** Format version written and read. */
  public static final int VERSION = 1;
  /** Default size bound. */
  public static final long DEFAULT_MAX_BYTES = 256L * 1024 * 1024;
  /** Default time bound for writing and for reading. */
  public static final Duration DEFAULT_BUDGET = Duration.ofSeconds(10);

  private static final byte[] MAGIC = "SLUICE-MEMORY-SNAPSHOT\n".getBytes(StandardCharsets.US_ASCII);
  private static final int DIGEST = 32;

  private MemorySnapshot() {}

  /**
   * What a write or a read did.
   *
   * @param bans bans written or restored
   * @param offences offence records written or restored
   * @param buckets buckets written or restored
   * @param leftOut entries left out by the size or time bound (or already present on restore)
   * @param ignored why the whole file was ignored on read (empty when it was used)
   */
  public record Report(int bans, int offences, int buckets, int leftOut, String ignored) {
    static Report ignored(String why) {
      return new Report(0, 0, 0, 0, why);
    }

    /** Whether the file was ignored as a whole. */
    public boolean wasIgnored() {
      return !ignored.isEmpty();
    }
  }

  /** Writes {@code store}'s state to {@code file} with the default bounds. */
  public static Report write(Path file, MemoryStore store, InstantSource wallClock) throws IOException {
    return write(file, store, wallClock, DEFAULT_MAX_BYTES, DEFAULT_BUDGET, System::nanoTime);
  }

  /**
   * Writes {@code store}'s state to {@code file}.
   *
   * @param nanoTime the monotonic time source the budget is measured with (injectable for tests)
   * @throws IOException when the file cannot be written (the previous snapshot stays)
   */
  public static Report write(Path file, MemoryStore store, InstantSource wallClock, long maxBytes,
      Duration budget, java.util.function.LongSupplier nanoTime) throws IOException {
    long deadline = nanoTime.getAsLong() + budget.toNanos();
    List<Ban> bans = store.listBans().toCompletableFuture().join();
    List<BucketState.Offences> offences = new ArrayList<>();
    List<BucketState> buckets = new ArrayList<>();
    store.exportState(buckets::add, offences::add);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    int leftOut = 0;
    out.writeInt(bans.size());
    for (Ban ban : bans) {
      out.writeUTF(ban.id());
      out.writeUTF(ban.scope());
      out.writeUTF(ban.identity());
      out.writeLong(ban.expiresAtEpochMillis());
      out.writeUTF(ban.reason());
    }
    List<byte[]> records = new ArrayList<>();
    long size = bytes.size();
    for (BucketState.Offences o : offences) {
      byte[] record = offence(o);
      if (size + record.length > maxBytes || nanoTime.getAsLong() - deadline > 0) {
        leftOut++;
        continue;
      }
      records.add(record);
      size += record.length;
    }
    out.writeInt(records.size());
    for (byte[] r : records) {
      out.write(r);
    }
    int offenceCount = records.size();
    records.clear();
    for (BucketState b : buckets) {
      byte[] record = bucket(b);
      if (size + record.length > maxBytes || nanoTime.getAsLong() - deadline > 0) {
        leftOut++;
        continue;
      }
      records.add(record);
      size += record.length;
    }
    out.writeInt(records.size());
    for (byte[] r : records) {
      out.write(r);
    }
    out.flush();
    byte[] payload = bytes.toByteArray();
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
    try (DataOutputStream f = new DataOutputStream(Files.newOutputStream(tmp))) {
      f.write(MAGIC);
      f.writeInt(VERSION);
      f.writeLong(wallClock.millis());
      f.writeInt(payload.length);
      f.write(payload);
      f.write(sha256(payload));
    }
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    return new Report(bans.size(), offenceCount, records.size(), leftOut, "");
  }

  /** Restores {@code file} into {@code store} with the default bounds. */
  public static Report read(Path file, MemoryStore store, InstantSource wallClock) {
    return read(file, store, wallClock, DEFAULT_MAX_BYTES, DEFAULT_BUDGET, System::nanoTime);
  }

  /**
   * Restores {@code file} into {@code store}. Never throws for the file's content: a file that
   * cannot be used is reported as {@link Report#ignored()} and nothing is restored.
   */
  public static Report read(Path file, MemoryStore store, InstantSource wallClock, long maxBytes,
      Duration budget, java.util.function.LongSupplier nanoTime) {
    long deadline = nanoTime.getAsLong() + budget.toNanos();
    byte[] all;
    try {
      if (Files.size(file) > maxBytes + MAGIC.length + 16 + DIGEST) {
        return Report.ignored("it is larger than the bound of " + maxBytes + " bytes");
      }
      all = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return Report.ignored("no such file");
    } catch (IOException e) {
      return Report.ignored("it cannot be read: " + e.getMessage());
    }
    Parsed parsed;
    try {
      parsed = parse(all);
    } catch (IOException | RuntimeException e) {
      return Report.ignored(e.getMessage() == null ? e.toString() : e.getMessage());
    }
    long elapsedNanos = Math.max(0, wallClock.millis() - parsed.writtenAt) * 1_000_000L;
    long nowMillis = wallClock.millis();
    int bans = 0;
    int offences = 0;
    int buckets = 0;
    int leftOut = 0;
    for (Ban ban : parsed.bans) {
      if (ban.activeAt(nowMillis)) {
        store.putBan(ban);
        bans++;
      }
    }
    for (BucketState.Offences o : parsed.offences) {
      if (nanoTime.getAsLong() - deadline > 0) {
        leftOut++;
        continue;
      }
      long[] ages = Arrays.stream(o.ages()).map(a -> a + elapsedNanos).filter(a -> a < o.windowNanos()).toArray();
      if (ages.length > 0) {
        store.importOffences(new BucketState.Offences(o.key(), o.windowNanos(), ages));
        offences++;
      }
    }
    long budgetKeys = store.maxKeys();
    for (BucketState b : parsed.buckets) {
      if (nanoTime.getAsLong() - deadline > 0 || buckets >= budgetKeys) {
        leftOut++;
        continue;
      }
      BucketState aged = age(b, elapsedNanos);
      if (aged == null) {
        continue; // refilled while the process was down
      }
      if (store.importBucket(aged)) {
        buckets++;
      } else {
        leftOut++;
      }
    }
    return new Report(bans, offences, buckets, leftOut, "");
  }

  private static BucketState age(BucketState b, long elapsed) {
    boolean any = false;
    if (b.debts() != null) {
      long[] debts = new long[b.debts().length];
      for (int i = 0; i < debts.length; i++) {
        debts[i] = Math.max(0, b.debts()[i] - elapsed);
        any |= debts[i] > 0;
      }
      return any ? new BucketState(b.policy(), b.identity(), b.spec(), debts, null) : null;
    }
    long[][] ages = new long[b.ages().length][];
    for (int i = 0; i < ages.length; i++) {
      long period = b.spec().limits().get(i).periodNanos();
      ages[i] = Arrays.stream(b.ages()[i]).map(a -> a + elapsed).filter(a -> a < period).toArray();
      any |= ages[i].length > 0;
    }
    return any ? new BucketState(b.policy(), b.identity(), b.spec(), null, ages) : null;
  }

  private record Parsed(long writtenAt, List<Ban> bans, List<BucketState.Offences> offences,
      List<BucketState> buckets) {}

  private static Parsed parse(byte[] all) throws IOException {
    if (all.length < MAGIC.length || !Arrays.equals(Arrays.copyOf(all, MAGIC.length), MAGIC)) {
      throw new IOException("it is not a Sluice memory-store snapshot");
    }
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(all, MAGIC.length, all.length - MAGIC.length));
    int version;
    long writtenAt;
    int length;
    try {
      version = in.readInt();
      if (version != VERSION) {
        throw new IOException("it has format version " + version + "; this Sluice reads version " + VERSION);
      }
      writtenAt = in.readLong();
      length = in.readInt();
    } catch (java.io.EOFException e) {
      throw new IOException("it is truncated (its header is incomplete)");
    }
    if (length < 0 || in.available() != length + DIGEST) {
      throw new IOException("it is truncated or has trailing bytes (payload of " + length + " bytes announced, "
          + Math.max(0, in.available() - DIGEST) + " present)");
    }
    byte[] payload = in.readNBytes(length);
    byte[] digest = in.readNBytes(DIGEST);
    if (!MessageDigest.isEqual(digest, sha256(payload))) {
      throw new IOException("its checksum does not match its content (corrupt)");
    }
    DataInputStream p = new DataInputStream(new ByteArrayInputStream(payload));
    List<Ban> bans = new ArrayList<>();
    for (int i = count(p); i > 0; i--) {
      String id = p.readUTF();
      String scope = p.readUTF();
      String identity = p.readUTF();
      long expires = p.readLong();
      bans.add(new Ban(id, scope, identity, expires, p.readUTF()));
    }
    List<BucketState.Offences> offences = new ArrayList<>();
    for (int i = count(p); i > 0; i--) {
      String key = p.readUTF();
      long window = p.readLong();
      offences.add(new BucketState.Offences(key, window, longs(p)));
    }
    List<BucketState> buckets = new ArrayList<>();
    for (int i = count(p); i > 0; i--) {
      String policy = p.readUTF();
      String identity = p.readUTF();
      byte algorithm = p.readByte();
      int n = count(p);
      List<Limit> limits = new ArrayList<>(n);
      long[] debts = algorithm == 0 ? new long[n] : null;
      long[][] ages = algorithm == 0 ? null : new long[n][];
      for (int k = 0; k < n; k++) {
        long quantity = p.readLong();
        long period = p.readLong();
        long burst = p.readLong();
        limits.add(new Limit(quantity, period, burst, null));
        if (algorithm == 0) {
          debts[k] = p.readLong();
        } else {
          ages[k] = longs(p);
        }
      }
      BucketSpec spec = new BucketSpec(algorithm == 0 ? Algorithm.GCRA : Algorithm.SLIDING_WINDOW, limits);
      buckets.add(new BucketState(policy, identity, spec, debts, ages));
    }
    if (p.available() != 0) {
      throw new IOException("it has " + p.available() + " unexpected bytes after its last entry");
    }
    return new Parsed(writtenAt, bans, offences, buckets);
  }

  private static int count(InputStream in) throws IOException {
    int n = new DataInputStream(in).readInt();
    if (n < 0 || n > 100_000_000) {
      throw new IOException("it holds an impossible count (" + n + ")");
    }
    return n;
  }

  private static long[] longs(DataInputStream in) throws IOException {
    long[] values = new long[count(in)];
    for (int i = 0; i < values.length; i++) {
      values[i] = in.readLong();
    }
    return values;
  }

  private static byte[] offence(BucketState.Offences o) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeUTF(o.key());
    out.writeLong(o.windowNanos());
    out.writeInt(o.ages().length);
    for (long a : o.ages()) {
      out.writeLong(a);
    }
    return bytes.toByteArray();
  }

  private static byte[] bucket(BucketState b) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeUTF(b.policy());
    out.writeUTF(b.identity());
    boolean gcra = b.debts() != null;
    out.writeByte(gcra ? 0 : 1);
    List<Limit> limits = b.spec().limits();
    out.writeInt(limits.size());
    for (int i = 0; i < limits.size(); i++) {
      Limit limit = limits.get(i);
      out.writeLong(limit.quantity());
      out.writeLong(limit.periodNanos());
      out.writeLong(limit.burst());
      if (gcra) {
        out.writeLong(b.debts()[i]);
      } else {
        out.writeInt(b.ages()[i].length);
        for (long a : b.ages()[i]) {
          out.writeLong(a);
        }
      }
    }
    return bytes.toByteArray();
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JVM provides SHA-256", e);
    }
  }
}
