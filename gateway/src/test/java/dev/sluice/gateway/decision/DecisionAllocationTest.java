package dev.sluice.gateway.decision;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.HeaderStyle;
import dev.sluice.config.SluiceConfig;
import dev.sluice.engine.Decision;
import dev.sluice.engine.Engine;
import dev.sluice.gateway.response.RateLimitHeaders;
import dev.sluice.match.EncodedSlashes;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.Clock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * What the decision API's JSON hot path allocates per allowed decision on the memory store: parse
 * the {@code /v1/decide} body (streaming), decide, render the rate-limit fields, write the answer.
 * Measured with the JVM's per-thread allocation counter over many decisions after a warm-up; the
 * figure is printed (and quoted in docs/benchmarks.md) and bounded here so a regression that makes
 * it balloon fails. The socket and HTTP codec (Netty, pooled buffers) are not counted.
 */
class DecisionAllocationTest {
  private static final int N = 20_000;

  @Test
  void allowedDecision_allocatesLessThan8KiB() throws Exception {
    SluiceConfig config = DecisionFixture.parse(DecisionFixture.yaml("", "", """
        policies:
          - name: search
            match: { paths: ["/api/search"] }
            by: [api_key, ip]
            limits: ["1000000/second"]
        clients:
          api_key: { header: X-API-Key }
        """));
    MemoryStore store = new MemoryStore(Clock.system(), MemoryStore.DEFAULT_MAX_KEYS);
    Engine engine = Engine.builder().policies(config.policies()).store(store).clock(Clock.system()).build();
    byte[] json = ("{\"method\":\"GET\",\"path\":\"/api/search?q=dam\",\"peer\":\"10.1.2.3\","
        + "\"headers\":{\"X-API-Key\":\"k-123\",\"User-Agent\":\"bench\"}}").getBytes(StandardCharsets.UTF_8);
    InetAddress loopback = InetAddress.getLoopbackAddress();
    HttpHeaders fields = new DefaultHttpHeaders();
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().getId();

    run(engine, json, loopback, fields, N); // warm-up (JIT)
    long before = threads.getThreadAllocatedBytes(id);
    run(engine, json, loopback, fields, N);
    long perDecision = (threads.getThreadAllocatedBytes(id) - before) / N;
    System.out.println("decision API JSON hot path: " + perDecision + " bytes allocated per allowed decision");
    assertThat(perDecision).isLessThan(8_192);
    store.close();
  }

  private static void run(Engine engine, byte[] json, InetAddress peer, HttpHeaders fields, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      DecideRequest request = DecideParser.decide(json, json.length, EncodedSlashes.DECODE, peer);
      Decision d = engine.decide(request).toCompletableFuture().join();
      fields.clear();
      RateLimitHeaders.apply(HeaderStyle.IETF, d, fields);
      ByteBuf out = DecisionAnswer.write(PooledByteBufAllocator.DEFAULT, true, 200, fields, null, null);
      out.release();
    }
  }
}
