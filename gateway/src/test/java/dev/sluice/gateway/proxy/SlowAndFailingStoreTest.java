package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.MemoryStore;
import dev.sluice.store.Store;
import dev.sluice.store.StoreException;
import dev.sluice.time.ManualClock;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Decisions that complete later, on another thread (as a Redis store's do), and stores that fail:
 * the proxy must hold the request until the decision arrives and apply {@code on_error}.
 */
@Timeout(30)
class SlowAndFailingStoreTest {
  private TestUpstream upstream;
  private GatewayFixture fixture;

  @BeforeEach
  void start() {
    upstream = TestUpstream.start();
  }

  @AfterEach
  void stop() {
    if (fixture != null) {
      fixture.close();
    }
    upstream.close();
  }

  /** A memory store whose answers arrive 50 ms later on a foreign thread. */
  static final class DelayedStore implements Store {
    private final MemoryStore delegate;
    private final Executor later = CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS);

    DelayedStore(ManualClock clock) {
      delegate = new MemoryStore(clock, 1000);
    }

    @Override
    public CompletionStage<Consumption> tryConsume(BucketKey key, BucketSpec spec, long cost) {
      return CompletableFuture.supplyAsync(() -> delegate.tryConsume(key, spec, cost).toCompletableFuture().join(), later);
    }

    @Override
    public CompletionStage<Void> ping() {
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
      delegate.close();
    }
  }

  /** A store that is down. */
  static final class FailingStore implements Store {
    @Override
    public CompletionStage<Consumption> tryConsume(BucketKey key, BucketSpec spec, long cost) {
      return CompletableFuture.failedFuture(new StoreException("store is down (test)"));
    }

    @Override
    public CompletionStage<Void> ping() {
      return CompletableFuture.failedFuture(new StoreException("store is down (test)"));
    }

    @Override
    public void close() {}
  }

  @Test
  void slowDecision_onForeignThread_stillLimitsAndStreamsBodies() throws Exception {
    fixture = new GatewayFixture(upstream.port(), "2s", "", DelayedStore::new);
    byte[] body = TestUpstream.bytes(1024 * 1024, 3);

    HttpResponse<String> upload = fixture.client.send(
        HttpRequest.newBuilder(fixture.uri("/upload")).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      statuses.add(fixture.client.send(
          HttpRequest.newBuilder(fixture.uri("/api/search")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    assertThat(upload.headers().firstValue("X-Body-Sha256")).hasValue(TestUpstream.sha256(body));
    assertThat(statuses).containsExactly(200, 200, 200, 200, 200, 429);
  }

  @Test
  void failingStore_withOnErrorDeny_gives503WithRetryAfterAndNothingReachesUpstream() throws Exception {
    fixture = new GatewayFixture(upstream.port(), "2s", "store: { type: memory, on_error: deny }", clock -> new FailingStore());

    HttpResponse<String> response = fixture.client.send(
        HttpRequest.newBuilder(fixture.uri("/api/search")).build(), HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(upstream.received()).isEmpty();
  }

  @Test
  void failingStore_withOnErrorAllow_forwards() throws Exception {
    fixture = new GatewayFixture(upstream.port(), "2s", "store: { type: memory, on_error: allow }", clock -> new FailingStore());

    HttpResponse<String> response = fixture.client.send(
        HttpRequest.newBuilder(fixture.uri("/api/search")).build(), HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(upstream.uris()).containsExactly("/api/search");
  }

  @Test
  void expectContinue_allowed_getsBodyThroughAndLimited_doesNotSendBody() throws Exception {
    fixture = new GatewayFixture(upstream.port(), "2s");
    byte[] body = TestUpstream.bytes(100_000, 5);
    HttpRequest request = HttpRequest.newBuilder(fixture.uri("/limited"))
        .expectContinue(true)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();

    HttpResponse<String> first = fixture.client.send(request, HttpResponse.BodyHandlers.ofString());
    // JDK 17's HttpClient hangs on a non-100 answer to Expect (JDK-8286171): raw socket here.
    RawConnection.Response second;
    boolean closed;
    try (RawConnection raw = new RawConnection(fixture.address())) {
      raw.send("POST /limited HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n");
      second = raw.read();
      closed = raw.closedByServer();
    }

    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().firstValue("X-Body-Sha256")).hasValue(TestUpstream.sha256(body));
    assertThat(second.status()).isEqualTo(429);
    assertThat(closed).isTrue();
    assertThat(upstream.received()).hasSize(1);
    assertThat(upstream.received().get(0).headers().contains("Expect")).isFalse();
  }
}
