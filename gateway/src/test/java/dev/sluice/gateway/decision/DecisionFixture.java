package dev.sluice.gateway.decision;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.gateway.Gateway;
import dev.sluice.store.MemoryStore;
import dev.sluice.store.Store;
import dev.sluice.time.Clock;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * A real {@code sluice serve} process's server, in-process: a policy file through {@link
 * ConfigLoader}, {@link Gateway#start} with the decision API on a free loopback port, and a
 * keep-alive HTTP/1.1 client for it.
 */
final class DecisionFixture implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();

  final Gateway gateway;
  final Store store;
  final SluiceConfig config;
  private final boolean ownsStore;
  final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  private DecisionFixture(Gateway gateway, Store store, SluiceConfig config, boolean ownsStore) {
    this.gateway = gateway;
    this.store = store;
    this.config = config;
    this.ownsStore = ownsStore;
  }

  /**
   * The policy file {@code version: 1}, a {@code gateway:} section with free ports ({@code
   * gatewayLines} adds to it, e.g. {@code "  upstream: http://127.0.0.1:5000\n"}), the decision
   * API on a free port ({@code decisionLines} adds to it), then {@code rest}.
   */
  static String yaml(String gatewayLines, String decisionLines, String rest) {
    return "version: 1\n"
        + "gateway:\n"
        + "  listen: 127.0.0.1:0\n"
        + "  admin: 127.0.0.1:0\n"
        + gatewayLines
        + "decision:\n"
        + "  listen: 127.0.0.1:0\n"
        + decisionLines
        + rest;
  }

  static SluiceConfig parse(String yaml) {
    try {
      return ConfigLoader.parse(yaml, "decision-test.yaml", Map.of("JWT_SECRET", "0123456789abcdef0123456789abcdef")::get);
    } catch (ConfigException e) {
      throw new AssertionError("the test's policy file is invalid: " + e.errors() + "\n" + yaml, e);
    }
  }

  /** The decision API alone (no upstream) on a memory store and the system clock. */
  static DecisionFixture start(String rest) {
    return start(parse(yaml("", "", rest)), Clock.system());
  }

  static DecisionFixture start(SluiceConfig config, Clock clock) {
    return start(config, new MemoryStore(clock, MemoryStore.DEFAULT_MAX_KEYS), clock, true);
  }

  static DecisionFixture start(SluiceConfig config, Store store, Clock clock, boolean ownsStore) {
    try {
      return new DecisionFixture(Gateway.start(config, store, clock), store, config, ownsStore);
    } catch (RuntimeException e) {
      if (ownsStore) {
        store.close();
      }
      throw e;
    }
  }

  DecisionServer api() {
    return gateway.decisionApi().orElseThrow();
  }

  InetSocketAddress address() {
    return api().address();
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + address().getPort() + path);
  }

  /** POSTs {@code json} to {@code path}; the raw answer. */
  HttpResponse<String> post(String path, String json) throws Exception {
    return client.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** {@code /v1/decide}, which must answer 200; its JSON. */
  JsonNode decide(String json) throws Exception {
    HttpResponse<String> response = post("/v1/decide", json);
    if (response.statusCode() != 200) {
      throw new AssertionError("/v1/decide answered " + response.statusCode() + ": " + response.body());
    }
    return JSON.readTree(response.body());
  }

  /** {@code /v1/settle}; its status. */
  int settle(String ticket, int status) throws Exception {
    return post("/v1/settle", "{\"ticket\":\"" + ticket + "\",\"status\":" + status + "}").statusCode();
  }

  /** The Prometheus text of the admin listener. */
  String metrics() throws Exception {
    InetSocketAddress admin = gateway.adminAddress();
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.getPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  @Override
  public void close() {
    gateway.close();
    if (ownsStore) {
      store.close();
    }
  }
}
