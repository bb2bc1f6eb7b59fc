package dev.sluice.gateway.abuse;

import dev.sluice.config.GatewaySettings;
import dev.sluice.config.HeaderStyle;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.StoreSettings;
import dev.sluice.config.StoreType;
import dev.sluice.gateway.Gateway;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.LimitParser;
import dev.sluice.policy.OnError;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.store.MemoryStore;
import dev.sluice.store.Store;
import dev.sluice.time.ManualClock;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A gateway built in code from core builders (the YAML layer may not accept every abuse-control
 * key yet), on free loopback ports, in front of a given upstream port. The store belongs to the
 * caller when passed in, so two gateways can share one {@link MemoryStore} like two instances
 * share Redis.
 */
final class AbuseGateway implements AutoCloseable {
  final Gateway gateway;
  final Store store;
  private final boolean ownsStore;
  final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  private AbuseGateway(Gateway gateway, Store store, boolean ownsStore) {
    this.gateway = gateway;
    this.store = store;
    this.ownsStore = ownsStore;
  }

  static Builder builder(int upstreamPort) {
    return new Builder(upstreamPort);
  }

  static Policy.Builder policy(String name, String path, String by, String limit) {
    return Policy.builder(name)
        .paths(List.of(path))
        .by(List.of(IdentitySpec.parse(by)))
        .limits(List.of(LimitParser.parse(limit)));
  }

  URI uri(String target) {
    return URI.create("http://127.0.0.1:" + gateway.address().getPort() + target);
  }

  URI admin(String target) {
    return URI.create("http://127.0.0.1:" + gateway.adminAddress().getPort() + target);
  }

  HttpResponse<String> get(String target) throws Exception {
    return client.send(HttpRequest.newBuilder(uri(target)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> send(HttpRequest request) throws Exception {
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() {
    gateway.close();
    if (ownsStore) {
      store.close();
    }
  }

  static final class Builder {
    private final int upstreamPort;
    private final PolicySet.Builder policies = PolicySet.builder().identity(IdentityResolver.builder().build());
    private int maxInflight;
    private Optional<String> token = Optional.empty();
    private Optional<String> auditLog = Optional.empty();
    private Duration upstreamTimeout = Duration.ofSeconds(10);
    private Store store;
    private List<String> adminHosts = List.of();

    private Builder(int upstreamPort) {
      this.upstreamPort = upstreamPort;
    }

    Builder policy(Policy policy) {
      policies.policy(policy);
      return this;
    }

    Builder policies(java.util.function.Consumer<PolicySet.Builder> change) {
      change.accept(policies);
      return this;
    }

    Builder maxInflight(int max) {
      this.maxInflight = max;
      return this;
    }

    Builder token(String token) {
      this.token = Optional.of(token);
      return this;
    }

    Builder auditLog(Path file) {
      this.auditLog = Optional.of(file.toString());
      return this;
    }

    Builder upstreamTimeout(Duration timeout) {
      this.upstreamTimeout = timeout;
      return this;
    }

    Builder adminHosts(String... names) {
      this.adminHosts = List.of(names);
      return this;
    }

    Builder store(Store store) {
      this.store = store;
      return this;
    }

    AbuseGateway start() {
      GatewaySettings settings = new GatewaySettings(
          new InetSocketAddress("127.0.0.1", 0),
          URI.create("http://127.0.0.1:" + upstreamPort),
          new InetSocketAddress("127.0.0.1", 0),
          upstreamTimeout,
          maxInflight,
          token,
          new dev.sluice.config.AdminAccess(false, adminHosts, token.isPresent()));
      StoreSettings storeSettings =
          new StoreSettings(StoreType.MEMORY, List.of(), OnError.ALLOW, Duration.ofSeconds(1), 10_000);
      SluiceConfig config = new SluiceConfig(
          Path.of("abuse-test.yaml"), settings, storeSettings, HeaderStyle.IETF, auditLog, policies.build());
      ManualClock clock = new ManualClock();
      boolean owns = store == null;
      Store s = owns ? new MemoryStore(clock, 10_000) : store;
      return new AbuseGateway(Gateway.start(config, s, clock), s, owns);
    }
  }
}
