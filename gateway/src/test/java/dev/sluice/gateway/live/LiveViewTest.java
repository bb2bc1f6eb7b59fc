package dev.sluice.gateway.live;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.engine.Engine;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.LimitParser;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.request.FixedRequest;
import dev.sluice.request.RequestView;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.ManualClock;
import java.net.InetAddress;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The listener fed by a real engine (memory store, manual clock): what it counts and keeps. */
class LiveViewTest {
  private static final String SECRET = "live-view-secret-api-key";

  private final ManualClock clock = new ManualClock();
  private final MutableInstant wall = new MutableInstant(Instant.parse("2026-12-05T18:00:10Z").toEpochMilli());
  private final LiveView view = new LiveView(wall, 100, 5);

  @Test
  void decisions_countedPerPolicyAndOutcome_topHoldsHashedKeys_recentKeepsTheLatestFive() throws Exception {
    Engine engine = engine(PolicySet.builder().identity(IdentityResolver.builder().apiKeyHeader("X-API-Key").build())
        .policy(policy("search", "/api/search", "ip", "2/minute"))
        .policy(policy("keys", "/api/items", "api_key", "1/minute")));
    for (int i = 0; i < 5; i++) {
      engine.decide(request("/api/search", "10.0.0.1", Map.of())).toCompletableFuture().get();
    }
    for (int i = 0; i < 4; i++) {
      engine.decide(request("/api/items", "10.0.0.2", Map.of("X-API-Key", SECRET))).toCompletableFuture().get();
    }

    long[][] search = view.rates().get("search");
    assertThat(sum(search[Outcomes.ALLOWED])).isEqualTo(2);
    assertThat(sum(search[Outcomes.LIMITED])).isEqualTo(3);
    TopLimited.Window searchTop = view.top(false, 10).get("search");
    assertThat(searchTop.top()).singleElement().satisfies(e -> {
      assertThat(e.kind).isEqualTo("ip");
      assertThat(e.value).isEqualTo("10.0.0.1");
      assertThat(e.count).isEqualTo(3);
      assertThat(e.lastSeenMillis).isEqualTo(wall.millis());
    });
    TopLimited.Entry key = view.top(true, 10).get("keys").top().get(0);
    assertThat(key.kind).isEqualTo("api_key");
    assertThat(key.value).doesNotContain(SECRET).matches("[0-9a-f]+");
    assertThat(key.count).isEqualTo(3);
    assertThat(view.recent()).hasSize(5);
    assertThat(view.recent().get(0).policy()).isEqualTo("keys");
    assertThat(view.recent()).allSatisfy(e -> assertThat(e.identity()).doesNotContain(SECRET));

    // Six minutes on: the 5-minute window is empty, the 60-minute one still has both; the rates are gone.
    wall.now += 6 * 60_000;
    assertThat(view.top(false, 10)).isEmpty();
    assertThat(view.top(true, 10)).containsOnlyKeys("search", "keys");
    assertThat(sum(view.rates().get("search")[Outcomes.LIMITED])).isZero();
  }

  @Test
  void anIpv6ClientIsShownInItsCanonicalText() {
    Engine engine = engine(PolicySet.builder().identity(IdentityResolver.builder().build())
        .policy(policy("search", "/api/search", "ip", "1/minute")));
    for (int i = 0; i < 2; i++) {
      engine.decideNow(request("/api/search", "2001:db8:0:0:0:0:0:7", Map.of()));
    }

    // RFC 5952, as in identities and X-Forwarded-For; getHostAddress() would give 2001:db8:0:0:0:0:0:7.
    assertThat(view.recent()).singleElement().satisfies(e -> assertThat(e.clientIp()).isEqualTo("2001:db8::7"));
  }

  /** An engine of {@code policies} on a memory store and the test's clock, reporting to the view. */
  private Engine engine(PolicySet.Builder policies) {
    return Engine.builder().policies(policies.build()).store(new MemoryStore(clock)).clock(clock).listener(view).build();
  }

  private static Policy policy(String name, String path, String by, String limit) {
    return Policy.builder(name).paths(List.of(path)).by(List.of(IdentitySpec.parse(by)))
        .limits(List.of(LimitParser.parse(limit))).build();
  }

  private static long sum(long[] values) {
    long s = 0;
    for (long v : values) {
      s += v;
    }
    return s;
  }

  private static final class MutableInstant implements InstantSource {
    volatile long now;

    MutableInstant(long now) {
      this.now = now;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(now);
    }
  }

  /** A GET of {@code path} from the address literal {@code peer}, with these headers. */
  private static RequestView request(String path, String peer, Map<String, String> headers) {
    try {
      return new FixedRequest("GET", path, null, InetAddress.getByName(peer), headers);
    } catch (java.net.UnknownHostException e) {
      throw new AssertionError(e);
    }
  }
}
