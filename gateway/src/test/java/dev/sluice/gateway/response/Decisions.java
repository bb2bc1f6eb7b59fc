package dev.sluice.gateway.response;

import dev.sluice.engine.Decision;
import dev.sluice.engine.Engine;
import dev.sluice.event.DecisionListener;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.policy.PolicySet;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.ManualClock;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.identity.ClientAddress;
import dev.sluice.identity.Identity;
import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.policy.Mode;
import dev.sluice.policy.Policy;
import dev.sluice.request.FixedRequest;
import dev.sluice.request.RequestView;
import dev.sluice.store.Consumption;
import dev.sluice.store.LimitStatus;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Hand-built decisions with exact numbers, for exact header strings. */
public final class Decisions {
  public static final long SECOND = 1_000_000_000L;
  public static final Identity IP = new Identity(new IdentitySpec(IdentityKind.IP, null), "203.0.113.7");

  private Decisions() {}

  public static ClientAddress client() {
    try {
      return new ClientAddress(InetAddress.getByName("203.0.113.7"), "203.0.113.7");
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  /** login: ["5/minute", "20/hour"]. */
  public static Policy login() {
    return Policy.builder("login").methods(List.of("POST")).paths(List.of("/auth/login"))
        .limits(List.of(new Limit(5, Duration.ofMinutes(1).toNanos(), 5, "5/minute"),
            new Limit(20, Duration.ofHours(1).toNanos(), 20, "20/hour")))
        .build();
  }

  /** search: ["100/minute"]. */
  public static Policy search(Mode mode) {
    return Policy.builder("search").paths(List.of("/api/search")).mode(mode)
        .limits(List.of(new Limit(100, Duration.ofMinutes(1).toNanos(), 100, "100/minute")))
        .build();
  }

  /** api: ["10/second burst 20"]. */
  public static Policy bursty() {
    return Policy.builder("api").paths(List.of("/api/**"))
        .limits(List.of(new Limit(10, SECOND, 20, "10/second burst 20")))
        .build();
  }

  public static Consumption allowed(LimitStatus... limits) {
    return new Consumption(true, -1, 0, List.of(limits));
  }

  public static Consumption denied(int limit, long retryAfterNanos, LimitStatus... limits) {
    return new Consumption(false, limit, retryAfterNanos, List.of(limits));
  }

  public static LimitStatus status(long remaining, long nanosToNext) {
    return new LimitStatus(remaining, nanosToNext, nanosToNext * 2);
  }

  public static Decision decision(PolicyDecision... policies) {
    return Decision.of(client(), List.of(policies));
  }

  public static PolicyDecision pd(Policy policy, Consumption consumption) {
    return PolicyDecision.of(policy, IP, consumption);
  }

  /** A request with the given method, path, peer 203.0.113.7, raw query and headers (one value each). */
  public static RequestView request(String method, String path, String rawQuery, Map<String, String> headers) {
    return new FixedRequest(method, path, rawQuery, client().client(), headers);
  }

  public static RequestView request(String method, String path) {
    return request(method, path, null, Map.of());
  }

  /** The API key {@link #engine} exempts. */
  public static final String EXEMPT_KEY = "internal-batch-key";

  /**
   * A real engine over a memory store on {@code clock}: API keys from {@code X-API-Key},
   * {@link #EXEMPT_KEY} exempt, {@code policies} in order.
   */
  public static Engine engine(ManualClock clock, DecisionListener listener, Policy... policies) {
    PolicySet.Builder set = PolicySet.builder()
        .identity(IdentityResolver.builder().apiKeyHeader("X-API-Key").build())
        .exemptApiKeys(List.of(EXEMPT_KEY));
    for (Policy policy : policies) {
      set.policy(policy);
    }
    return Engine.builder().policies(set.build()).store(new MemoryStore(clock, 10_000)).clock(clock)
        .listener(listener).build();
  }

  /** Decides {@code request} and waits (the memory store completes immediately). */
  public static Decision decide(Engine engine, RequestView request) {
    return engine.decide(request).toCompletableFuture().join();
  }
}
