package dev.sluice.gateway.proxy;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.gateway.Gateway;
import dev.sluice.store.MemoryStore;
import dev.sluice.store.Store;
import java.util.function.Function;
import dev.sluice.time.ManualClock;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;

/**
 * A gateway on a free loopback port in front of a given upstream port, with a test policy. The
 * clock is manual and never advanced, so buckets never refill: "N/minute" admits exactly N.
 */
final class GatewayFixture implements AutoCloseable {
  static final String POLICY =
      """
      version: 1
      gateway:
        listen: 127.0.0.1:0
        upstream: http://127.0.0.1:%d
        admin: 127.0.0.1:0
        upstream_timeout: %s
      %s
      policies:
        - name: search
          match: { paths: ["/api/search"] }
          by: ip
          limits: ["5/minute"]
        - name: upload
          match: { methods: [POST], paths: ["/limited"] }
          by: ip
          limits: ["1/minute"]
      """;

  final Gateway gateway;
  final Store store;
  final HttpClient client;

  GatewayFixture(int upstreamPort, String upstreamTimeout) throws Exception {
    this(upstreamPort, upstreamTimeout, "", clock -> new MemoryStore(clock, 10_000));
  }

  /**
   * @param extraYaml top-level sections placed before {@code policies:} (e.g. a {@code store:}
   *     section)
   */
  GatewayFixture(int upstreamPort, String upstreamTimeout, String extraYaml, Function<ManualClock, Store> stores)
      throws Exception {
    SluiceConfig config =
        ConfigLoader.parse(POLICY.formatted(upstreamPort, upstreamTimeout, extraYaml), "test.yaml");
    ManualClock clock = new ManualClock();
    store = stores.apply(clock);
    gateway = Gateway.start(config, store, clock);
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  }

  InetSocketAddress address() {
    return gateway.address();
  }

  URI uri(String target) {
    return URI.create("http://127.0.0.1:" + gateway.address().getPort() + target);
  }

  @Override
  public void close() {
    gateway.close();
    store.close();
  }
}
