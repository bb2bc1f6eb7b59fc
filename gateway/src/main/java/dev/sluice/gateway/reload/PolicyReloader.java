package dev.sluice.gateway.reload;

import dev.sluice.config.ConfigError;
import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.engine.Engine;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reload and rollback of the policy file on a running gateway (SPEC §9).
 *
 * <p>A reload reads the file's bytes once, validates the whole file ({@link ConfigLoader}, with
 * {@code ${VAR}} substituted strictly), refuses any change outside the policies ({@link
 * LiveSettings}), and only then calls {@link Engine#reload}: one atomic swap that every holder of
 * the engine (proxy, decision API) sees at its next request. On any error nothing changes. Bucket
 * state is keyed by policy name and identity in the store, so unchanged limits keep their state and
 * changed ones carry their used tokens over (see the store); bans live in the store and the
 * engine's ban replica carries over.
 *
 * <p>Versions: the file read at start is version 1; each successful reload of different bytes is
 * the next number (the same bytes again is a success that changes nothing). The last {@value
 * #KEPT} good versions are kept in memory; a rollback makes an earlier one the version in force
 * again (its number and hash, not a new number), without touching the file on disk — so the next
 * {@code SIGHUP} reads the file again.
 *
 * <p>Thread-safe: reloads and rollbacks are serialised; reading {@link #current()} never blocks.
 */
public final class PolicyReloader {
  /** Good versions kept for {@code GET /v1/config} and rollback. */
  public static final int KEPT = 10;

  private static final Logger log = LoggerFactory.getLogger(PolicyReloader.class);

  private final Path file;
  private final Engine engine;
  private final InstantSource clock;
  private final Function<String, String> env;
  private final ReloadMetrics metrics;
  /** Oldest first; never empty. Guarded by this. */
  private final Deque<ConfigVersion> history = new ArrayDeque<>();
  private volatile ConfigVersion current;
  private int lastNumber;

  /**
   * @param file the policy file, re-read by every reload
   * @param initial the configuration the gateway started with
   * @param initialBytes the bytes {@code initial} was read from (for its hash)
   * @param engine the gateway's engine (any version of it)
   * @param registry where the reload metrics are published
   * @param clock the time of each version
   * @param env environment lookup for {@code ${VAR}} and {@code *_env}
   */
  public PolicyReloader(Path file, SluiceConfig initial, byte[] initialBytes, Engine engine,
      MeterRegistry registry, InstantSource clock, Function<String, String> env) {
    this.file = Objects.requireNonNull(file, "file");
    this.engine = Objects.requireNonNull(engine, "engine");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.env = Objects.requireNonNull(env, "env");
    this.metrics = new ReloadMetrics(registry);
    ConfigVersion first = new ConfigVersion(1, sha256(initialBytes), clock.instant(), file.toString(), initial);
    lastNumber = 1;
    history.addLast(first);
    current = first;
    metrics.inForce(first, clock.millis(), false);
  }

  /** The version in force. */
  public ConfigVersion current() {
    return current;
  }

  /** The kept good versions, oldest first (at most {@value #KEPT}). */
  public synchronized List<ConfigVersion> history() {
    return List.copyOf(history);
  }

  /** Re-reads the policy file; see the class comment. Never throws for a bad file. */
  public synchronized ReloadResult reload() {
    ConfigVersion running = current;
    byte[] bytes;
    SluiceConfig next;
    try {
      bytes = read(file);
      next = ConfigLoader.parse(decode(file, bytes), file.toString(), env);
    } catch (ConfigException e) {
      return refused(running, e.errors().stream().map(ConfigError::toString).toList());
    }
    String sha = sha256(bytes);
    List<String> restart = LiveSettings.restartNeeded(file.toString(), running.config(), next);
    if (!restart.isEmpty()) {
      return refused(running, restart);
    }
    if (sha.equals(running.sha256())) {
      metrics.inForce(running, clock.millis(), true);
      log.info("policy file {} reloaded: unchanged (version {}, sha256 {})", file, running.version(), running.sha256());
      return ReloadResult.success(running, false);
    }
    ConfigVersion version = new ConfigVersion(++lastNumber, sha, clock.instant(), file.toString(), next);
    apply(version);
    history.addLast(version);
    while (history.size() > KEPT) {
      history.removeFirst();
    }
    log.info("policy file {} reloaded: version {} (sha256 {}), {} policies", file, version.version(), sha,
        next.policies().policies().size());
    return ReloadResult.success(version, true);
  }

  /**
   * Makes an earlier good version the one in force: {@code version} when given, else the one kept
   * before the version in force.
   */
  public synchronized ReloadResult rollback(Integer version) {
    ConfigVersion running = current;
    ConfigVersion target = null;
    if (version == null) {
      ConfigVersion before = null;
      for (ConfigVersion v : history) {
        if (v == running) {
          target = before;
          break;
        }
        before = v;
      }
      if (target == null) {
        metrics.failed();
        return ReloadResult.refused(ReloadResult.Kind.UNKNOWN_VERSION, running,
            List.of("no good version before version " + running.version() + " is kept; kept versions: " + kept()));
      }
    } else {
      for (ConfigVersion v : history) {
        if (v.version() == version) {
          target = v;
        }
      }
      if (target == null) {
        metrics.failed();
        return ReloadResult.refused(ReloadResult.Kind.UNKNOWN_VERSION, running,
            List.of("version " + version + " is not among the kept good versions: " + kept()));
      }
    }
    if (target == running) {
      metrics.inForce(running, clock.millis(), true);
      return ReloadResult.success(running, false);
    }
    apply(target);
    log.info("policy file {} rolled back from version {} to version {} (sha256 {})", file, running.version(),
        target.version(), target.sha256());
    return ReloadResult.success(target, true);
  }

  private void apply(ConfigVersion version) {
    engine.reload(version.config().policies());
    current = version;
    metrics.inForce(version, clock.millis(), true);
  }

  private ReloadResult refused(ConfigVersion running, List<String> errors) {
    metrics.failed();
    log.warn("policy reload of {} refused; version {} stays in force:\n  {}", file, running.version(),
        String.join("\n  ", errors));
    return ReloadResult.refused(ReloadResult.Kind.INVALID, running, errors);
  }

  private String kept() {
    List<String> numbers = new ArrayList<>();
    for (ConfigVersion v : history) {
      numbers.add(Integer.toString(v.version()));
    }
    return String.join(", ", numbers);
  }

  /** The policy file's bytes. */
  public static byte[] read(Path file) throws ConfigException {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw unreadable(file, "no such file");
    } catch (IOException e) {
      throw unreadable(file, Files.isDirectory(file) ? "it is a directory" : String.valueOf(e.getMessage()));
    }
  }

  private static String decode(Path file, byte[] bytes) throws ConfigException {
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw unreadable(file, "it is not UTF-8 text");
    }
  }

  private static ConfigException unreadable(Path file, String problem) {
    return new ConfigException(List.of(new ConfigError(file.toString(), 0, 0, "cannot read the policy file: " + problem)));
  }

  /** Lowercase hex SHA-256. */
  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JVM provides SHA-256", e);
    }
  }
}
