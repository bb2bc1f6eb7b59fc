package dev.sluice.cli;

import dev.sluice.config.SluiceConfig;
import dev.sluice.config.StoreSettings;
import dev.sluice.gateway.Gateway;
import dev.sluice.store.MemoryStore;
import dev.sluice.store.Store;
import dev.sluice.store.StoreException;
import dev.sluice.store.redis.RedisStore;
import dev.sluice.store.redis.RedisSecurity;
import dev.sluice.store.redis.RedisStoreOptions;
import dev.sluice.time.Clock;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sluice serve -c FILE}: runs the gateway until SIGTERM or SIGINT, reloading the policy
 * file on SIGHUP and draining before it exits (see {@link ServeLifecycle}).
 *
 * <p>Exit status: 2 when the policy file is invalid (each error as {@code file:line:column:
 * message} on stderr); 1 when the gateway cannot start (for example the listen address is taken
 * or the Redis store is unreachable); 0 after a clean shutdown.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Run the gateway (a rate-limiting reverse proxy in front of gateway.upstream), the decision API"
          + " (decision.listen), or both over one engine.",
      "Stops cleanly on SIGTERM or Ctrl-C."
    })
public final class ServeCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

  /** Exit status for an invalid policy file. */
  public static final int INVALID = 2;
  /** Exit status when the gateway cannot start. */
  public static final int FAILED = 1;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE",
      description = "The policy file (YAML, version: 1).")
  Path config;

  @CommandLine.Mixin LogOptions logOptions = new LogOptions();

  @Override
  public Integer call() {
    logOptions.apply();
    PrintWriter err = spec.commandLine().getErr();
    Optional<SluiceConfig> file = PolicyFiles.loadOrReport(config, err);
    if (file.isEmpty()) {
      return INVALID;
    }
    SluiceConfig loaded = file.get();
    loaded.warnings().forEach(warning -> log.warn("{}", warning)); // the same warnings check prints
    if (logOptions.format == LogOptions.Format.JSON) {
      // Every line of a JSON process log is JSON: the loud admin warnings go through the logger.
      loaded.gateway().adminWarnings().forEach(warning -> log.warn("{}", warning));
    } else {
      PolicyFiles.warnAboutAdmin("serve", loaded, err);
    }
    Store store;
    try {
      store = openStore(loaded.store());
    } catch (StoreException e) {
      // The message names the URL with its password masked.
      err.println("sluice serve: cannot reach the store: " + e.getMessage());
      err.flush();
      return FAILED;
    }
    ServeLifecycle.restore(loaded, store);
    ServeLifecycle.catchSignalsEarly();
    Gateway gateway;
    try {
      gateway = Gateway.start(loaded, store, Clock.system());
    } catch (RuntimeException e) {
      store.close();
      err.println("sluice serve: " + e.getMessage());
      err.flush();
      return FAILED;
    }
    String storeType = loaded.store().type().name().toLowerCase(java.util.Locale.ROOT);
    if (gateway.proxying()) {
      log.info("sluice listening on {} -> upstream {}; admin on {}; store {}; transport {}", text(gateway.address()),
          upstreamText(loaded.gateway()), text(gateway.adminAddress()), storeType, gateway.transport().label());
    }
    gateway.decisionApi().ifPresent(api -> log.info("sluice decision API on {}; admin on {}; store {}; transport {}",
        text(api.address()), text(gateway.adminAddress()), storeType, gateway.transport().label()));
    AuditLogRotation.install(gateway);
    StoreHealthMetrics.bind(gateway, store);
    // Version 1's hash; the file is read again for it (a change in between only mislabels v1).
    byte[] bytes;
    try {
      bytes = java.nio.file.Files.readAllBytes(config);
    } catch (java.io.IOException e) {
      bytes = new byte[0];
    }
    return ServeLifecycle.run(config, loaded, bytes, store, gateway);
  }

  /**
   * Blocks until the JVM is asked to stop; the shutdown hook closes the gateway (stop accepting,
   * close connections) and then the store, and only then lets this thread return.
   */
  static void awaitShutdown(AutoCloseable gateway, AutoCloseable store) {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("sluice stopping");
                  closeQuietly(gateway);
                  closeQuietly(store);
                  log.info("sluice stopped");
                  stopped.countDown();
                },
                "sluice-shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      log.warn("error while stopping {}", closeable.getClass().getSimpleName(), e);
    }
  }

  /** The store the file asks for; a Redis store must answer at start (it recovers by itself later). */
  static Store openStore(StoreSettings settings) {
    return switch (settings.type()) {
      case MEMORY -> new MemoryStore(Clock.system(), settings.maxKeys());
      case REDIS -> RedisStore.connect(redisOptions(settings));
    };
  }

  /** store.url, timeout, password_env's value and store.tls as the Redis store takes them. */
  static RedisStoreOptions redisOptions(StoreSettings settings) {
    dev.sluice.config.RedisAccess access = settings.access();
    RedisSecurity security = new RedisSecurity(access.password(), access.caFile(), access.insecureSkipVerify());
    return RedisStoreOptions.of(settings.urls(), settings.timeout()).withSecurity(security);
  }

  static String text(InetSocketAddress address) {
    return address.getHostString() + ":" + address.getPort();
  }

  /** The upstream URL, or the list of them ({@code [a, b]}) when {@code gateway.upstream} is a list. */
  private static String upstreamText(dev.sluice.config.GatewaySettings g) {
    java.util.List<java.net.URI> all = g.edge() == null ? java.util.List.of() : g.edge().upstreams();
    return all.size() > 1 ? all.toString() : String.valueOf(g.upstream());
  }
}
