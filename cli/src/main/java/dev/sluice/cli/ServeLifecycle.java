package dev.sluice.cli;

import dev.sluice.config.LifecycleSettings;
import dev.sluice.config.SluiceConfig;
import dev.sluice.gateway.Gateway;
import dev.sluice.gateway.admin.ConfigApi;
import dev.sluice.gateway.proxy.Drain;
import dev.sluice.gateway.reload.PolicyReloader;
import dev.sluice.gateway.reload.ReloadResult;
import dev.sluice.store.MemorySnapshot;
import dev.sluice.store.MemoryStore;
import dev.sluice.store.Store;
import java.io.IOException;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * What {@code sluice serve} does between start and exit (SPEC §9): reload on {@code SIGHUP} and
 * through the admin API, drain on {@code SIGTERM} (or Ctrl-C), and the memory store's snapshot.
 *
 * <pre>
 * SIGHUP        → reload the policy file (a bad file changes nothing; logged, counted) and the
 *                 listener's TLS certificate (an unusable one leaves the old in force)
 * SIGTERM/INT   → /readyz 503 at once → keep serving for gateway.drain_grace
 *               → stop accepting; idle connections close, busy ones after their response
 *               → wait up to gateway.shutdown_timeout for requests in flight
 *               → close the gateway → write store.snapshot (memory store) → close the store → exit 0
 * second signal → exit at once with status 1 (no waiting, no snapshot)
 * </pre>
 *
 * <p>Signals are taken with {@code sun.misc.Signal} (in the {@code jdk.unsupported} module, present
 * in every JDK): the JDK offers no supported API for SIGHUP, and handling SIGTERM ourselves is what
 * lets the drain run before the JVM's shutdown. The handlers only hand work to threads of their
 * own. A shutdown hook remains as a fallback for any other way the JVM stops (it closes and
 * snapshots without the drain).
 *
 * <p>The handlers are installed before the gateway starts ({@link #catchSignalsEarly()}): a signal
 * that arrives while it starts — right after {@code /readyz} first answers 200, say — is kept and
 * handled once the lifecycle runs, instead of reaching the JVM's default handler (which would
 * shut down without the drain) or being lost.
 */
final class ServeLifecycle {
  private static final Logger log = LoggerFactory.getLogger(ServeLifecycle.class);
  private static final List<String> SIGNALS = List.of("HUP", "TERM", "INT");
  private static final AtomicBoolean HANDLERS_INSTALLED = new AtomicBoolean();
  /** The lifecycle that takes signals now; null while {@code serve} starts or after it ended. */
  private static final AtomicReference<ServeLifecycle> RUNNING = new AtomicReference<>();
  /** Signals that arrived while no lifecycle ran; each is claimed (removed) exactly once. */
  private static final Set<String> EARLY = ConcurrentHashMap.newKeySet();

  private final Path file;
  private final SluiceConfig config;
  private final Store store;
  private final Gateway gateway;
  private final PolicyReloader reloader;
  private final ExecutorService reloads;
  private final AtomicInteger signals = new AtomicInteger();
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final CountDownLatch done = new CountDownLatch(1);

  private ServeLifecycle(Path file, SluiceConfig config, byte[] bytes, Store store, Gateway gateway) {
    this.file = file;
    this.config = config;
    this.store = store;
    this.gateway = gateway;
    this.reloads = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "sluice-reload");
      t.setDaemon(true);
      return t;
    });
    this.reloader = new PolicyReloader(file, config, bytes, gateway.engine(), gateway.registry(),
        InstantSource.system(), System::getenv);
    gateway.configApi(new ConfigApi(reloader, reloads));
  }

  /**
   * Restores the memory store from {@code store.snapshot} when both are configured; a snapshot that
   * cannot be used is logged as a warning and the store starts empty.
   */
  static void restore(SluiceConfig config, Store store) {
    if (!(store instanceof MemoryStore memory) || config.lifecycle().snapshot().isEmpty()) {
      return;
    }
    Path path = config.lifecycle().snapshot().get();
    MemorySnapshot.Report report = MemorySnapshot.read(path, memory, InstantSource.system());
    if (report.wasIgnored()) {
      if (!report.ignored().equals("no such file")) {
        log.warn("ignoring the memory-store snapshot {}: {}; starting with an empty store", path, report.ignored());
      } else {
        log.info("no memory-store snapshot at {} yet; starting with an empty store", path);
      }
    } else {
      log.info("restored the memory store from {}: {} bans, {} offence records, {} buckets{}", path,
          report.bans(), report.offences(), report.buckets(),
          report.leftOut() > 0 ? " (" + report.leftOut() + " left out by the bounds)" : "");
    }
  }

  /** Serves until the drain ends; returns the exit status (0). */
  static int run(Path file, SluiceConfig config, byte[] bytes, Store store, Gateway gateway) {
    ServeLifecycle lifecycle = new ServeLifecycle(file, config, bytes, store, gateway);
    return lifecycle.await();
  }

  private int await() {
    Runtime.getRuntime().addShutdownHook(new Thread(this::stopWithoutDrain, "sluice-shutdown"));
    catchSignalsEarly();
    RUNNING.set(this);
    for (String name : SIGNALS) {
      if (EARLY.remove(name)) {
        on(name);
      }
    }
    try {
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      RUNNING.compareAndSet(this, null);
    }
    return 0;
  }

  /**
   * Installs the signal handlers (once per JVM); {@code serve} calls it before it starts the
   * gateway. Signals before the lifecycle runs are kept for it.
   */
  static void catchSignalsEarly() {
    if (HANDLERS_INSTALLED.compareAndSet(false, true)) {
      for (String name : SIGNALS) {
        handle(name, () -> dispatch(name));
      }
    }
  }

  private static void dispatch(String name) {
    ServeLifecycle lifecycle = RUNNING.get();
    if (lifecycle != null) {
      lifecycle.on(name);
      return;
    }
    EARLY.add(name);
    // The lifecycle may have started between the two lines above and already replayed EARLY.
    lifecycle = RUNNING.get();
    if (lifecycle != null && EARLY.remove(name)) {
      lifecycle.on(name);
    }
  }

  private void on(String name) {
    if (name.equals("HUP")) {
      onHangUp();
    } else {
      onStop();
    }
  }

  private static void handle(String name, Runnable action) {
    try {
      SignalHandler previous = Signal.handle(new Signal(name), signal -> action.run());
      if (previous == SignalHandler.SIG_IGN) {
        // The JVM keeps a signal its parent ignored (nohup ignores SIGHUP) and installs nothing.
        log.warn("SIG{} is ignored by the environment sluice was started from (nohup?): it has no effect; {}", name,
            name.equals("HUP") ? "reload with POST /v1/config/reload instead" : "stop sluice with another signal");
      }
    } catch (IllegalArgumentException e) {
      log.warn("cannot handle SIG{} on this platform: {}", name, e.getMessage());
    }
  }

  private void onHangUp() {
    reloads.execute(() -> {
      ReloadResult result = reloader.reload();
      if (result.ok()) {
        log.info("SIGHUP: policy file {} is version {}{}", file, result.version().version(),
            result.changed() ? "" : " (unchanged)");
      }
      // The listener's certificate is re-read whatever became of the policy file (rotation by
      // SIGHUP; the cert_file/key_file names themselves need a restart).
      gateway.reloadCertificates();
    });
  }

  private void onStop() {
    if (signals.incrementAndGet() > 1) {
      log.warn("second stop signal: exiting at once, without waiting for requests in flight or a snapshot");
      Runtime.getRuntime().halt(1);
    }
    Thread drain = new Thread(this::drainAndStop, "sluice-drain");
    drain.setDaemon(false);
    drain.start();
  }

  private void drainAndStop() {
    LifecycleSettings settings = config.lifecycle();
    gateway.drain();
    log.info("stopping: /readyz answers 503; serving for {} ms more (gateway.drain_grace)",
        settings.drainGrace().toMillis());
    try {
      Thread.sleep(settings.drainGrace().toMillis());
      Drain drain = gateway.stopAccepting();
      log.info("stopped accepting; waiting up to {} ms for {} requests in flight (gateway.shutdown_timeout)",
          settings.shutdownTimeout().toMillis(), drain.inProgress());
      if (!drain.awaitIdle(settings.shutdownTimeout().toMillis())) {
        log.warn("{} requests still in flight after gateway.shutdown_timeout; closing their connections",
            drain.inProgress());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    stopWithoutDrain();
    done.countDown();
  }

  /** Closes the gateway, writes the snapshot, closes the store; once. */
  private void stopWithoutDrain() {
    if (!stopped.compareAndSet(false, true)) {
      return;
    }
    ServeCommand.closeQuietly(gateway);
    reloads.shutdownNow();
    if (store instanceof MemoryStore memory && config.lifecycle().snapshot().isPresent()) {
      Path path = config.lifecycle().snapshot().get();
      try {
        MemorySnapshot.Report report = MemorySnapshot.write(path, memory, InstantSource.system());
        log.info("wrote the memory-store snapshot {}: {} bans, {} offence records, {} buckets{}", path,
            report.bans(), report.offences(), report.buckets(),
            report.leftOut() > 0 ? " (" + report.leftOut() + " left out by the bounds)" : "");
      } catch (IOException | RuntimeException e) {
        log.warn("cannot write the memory-store snapshot {}: {}", path, e.toString());
      }
    }
    ServeCommand.closeQuietly(store);
    log.info("sluice stopped");
    try {
      reloads.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
