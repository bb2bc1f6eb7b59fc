package dev.sluice.cli;

import dev.sluice.cli.demo.SampleApi;
import dev.sluice.config.ConfigError;
import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.gateway.Gateway;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.Clock;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.BindException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sluice demo}: the gateway on the in-memory store with an example policy, in front of the
 * built-in {@link SampleApi}, and a few {@code curl} lines to try. Runs until Ctrl-C.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Zero-setup demo: a sample API behind the gateway with an example policy (in-memory store).",
      "Prints curl commands to try; stops on Ctrl-C."
    })
public final class DemoCommand implements Callable<Integer> {
  /** How many ports after {@code --port} are tried when it is taken. */
  static final int PORT_ATTEMPTS = 20;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080",
      description = "Gateway port on 127.0.0.1; the next free one is used when taken (default: ${DEFAULT-VALUE}).")
  int port;

  @CommandLine.Mixin LogOptions logOptions = new LogOptions();

  /** The example policy; {@code %d} are the gateway port and the sample API's port. */
  static final String POLICY =
      """
      version: 1
      gateway:
        listen: 127.0.0.1:%d
        upstream: http://127.0.0.1:%d
        admin: 127.0.0.1:0
        upstream_timeout: 10s
      store:
        type: memory
      headers: ietf
      defaults:
        by: ip
        limits: ["100/minute"]
      policies:
        - name: search
          match: { paths: ["/api/search", "/api/search/**"] }
          by: ip
          limits: ["5/minute"]
        - name: login
          match: { methods: [POST], paths: ["/auth/login"] }
          by: ip
          limits: ["3/minute"]
      """;

  @Override
  public Integer call() {
    logOptions.apply();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (port < 1 || port > 65535) {
      err.println("sluice demo: --port " + port + " is not a port number; expected 1 to 65535");
      err.flush();
      return ServeCommand.INVALID;
    }
    SampleApi api;
    try {
      api = SampleApi.start();
    } catch (IOException e) {
      err.println("sluice demo: cannot start the sample API: " + e.getMessage());
      err.flush();
      return ServeCommand.FAILED;
    }
    MemoryStore store = new MemoryStore(Clock.system(), MemoryStore.DEFAULT_MAX_KEYS);
    Gateway gateway = null;
    int candidate = port;
    for (int attempt = 0; gateway == null && attempt < PORT_ATTEMPTS && candidate <= 65535; attempt++, candidate++) {
      SluiceConfig config;
      try {
        config = ConfigLoader.parse(POLICY.formatted(candidate, api.address().getPort()), "demo.yaml");
      } catch (ConfigException e) {
        // The embedded policy is part of the product; failing here is a bug, reported verbatim.
        for (ConfigError error : e.errors()) {
          err.println(error);
        }
        err.flush();
        api.close();
        return ServeCommand.FAILED;
      }
      try {
        gateway = Gateway.start(config, store, Clock.system());
      } catch (IllegalStateException e) {
        if (!(e.getCause() instanceof BindException)) {
          api.close();
          err.println("sluice demo: " + e.getMessage());
          err.flush();
          return ServeCommand.FAILED;
        }
      }
    }
    if (gateway == null) {
      api.close();
      err.println("sluice demo: ports " + port + " to " + (candidate - 1) + " on 127.0.0.1 are all taken; try --port");
      err.flush();
      return ServeCommand.FAILED;
    }
    printIntro(out, "http://127.0.0.1:" + gateway.address().getPort(),
        "http://127.0.0.1:" + gateway.adminAddress().getPort(), api.address().getPort());
    Gateway running = gateway;
    ServeCommand.awaitShutdown(
        () -> {
          running.close();
          api.close();
        },
        store);
    return 0;
  }

  private static void printIntro(PrintWriter out, String gateway, String admin, int apiPort) {
    out.println();
    out.println("Sluice demo is running.");
    out.println("  gateway     " + gateway + "   (in front of the sample API on 127.0.0.1:" + apiPort + ")");
    out.println("  admin       " + admin + "   (/metrics, /healthz, /readyz)");
    out.println("  policies    search: 5/minute per IP on /api/search");
    out.println("              login:  3/minute per IP on POST /auth/login");
    out.println("              everything else: 100/minute per IP");
    out.println();
    out.println("Try it (in another terminal) - the 6th search within a minute gets 429:");
    out.println("  for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code}\\n' '" + gateway + "/api/search?q=an'; done");
    out.println("  curl -i '" + gateway + "/api/search?q=an'          # headers: RateLimit, RateLimit-Policy, Retry-After");
    out.println("  curl -i -X POST " + gateway + "/auth/login          # 401 from the API, 429 after 3 tries");
    out.println("  curl -s " + admin + "/metrics | grep sluice_requests_total");
    out.println();
    out.println("Press Ctrl-C to stop.");
    out.flush();
  }
}
