package dev.sluice.gateway.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.gateway.metrics.GatewayMetrics;
import dev.sluice.gateway.response.Decisions;
import dev.sluice.policy.OnError;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.Store;
import dev.sluice.store.StoreException;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AdminServerTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final SwitchableStore store = new SwitchableStore();
  private AdminServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }

  private AdminServer start(OnError onError) {
    server = AdminServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), registry, store, group,
        onError);
    return server;
  }

  private HttpResponse<String> send(String method, String path) throws IOException, InterruptedException {
    URI uri = URI.create("http://127.0.0.1:" + server.address().getPort() + path);
    HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
        .method(method, HttpRequest.BodyPublishers.noBody()).build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return send("GET", path);
  }

  @Test
  void start_portZero_bindsLoopbackWithRealPort() {
    start(OnError.ALLOW);

    assertThat(server.address().getAddress().isLoopbackAddress()).isTrue();
    assertThat(server.address().getPort()).isPositive();
  }

  @Test
  void healthz_storeDown_returnsOk() throws Exception {
    start(OnError.DENY);
    store.failing.set(new StoreException("redis down"));

    HttpResponse<String> response = get("/healthz");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("ok");
  }

  @Test
  void readyz_storeAnswers_isReady() throws Exception {
    start(OnError.DENY);

    HttpResponse<String> response = get("/readyz");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("ready");
  }

  @Test
  void readyz_storeFailsUnderAllow_isDegraded() throws Exception {
    start(OnError.ALLOW);
    store.failing.set(new StoreException("connection refused: 127.0.0.1:6379"));

    HttpResponse<String> response = get("/readyz");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("degraded");
  }

  @Test
  void readyz_storeFailsUnderDeny_isNotReady() throws Exception {
    start(OnError.DENY);
    store.failing.set(new StoreException("connection refused: 127.0.0.1:6379"));

    HttpResponse<String> response = get("/readyz");

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.body()).isEqualTo("not ready");
  }

  @Test
  void readyz_storeRecovers_isReadyAgain() throws Exception {
    start(OnError.DENY);
    store.failing.set(new StoreException("down"));
    assertThat(get("/readyz").statusCode()).isEqualTo(503);

    store.failing.set(null);

    assertThat(get("/readyz").statusCode()).isEqualTo(200);
  }

  @Test
  void readyz_storeNeverAnswers_timesOutWithoutBlockingOtherRequests() throws Exception {
    start(OnError.DENY);
    store.hanging = true;
    long started = System.nanoTime();
    CompletableFuture<HttpResponse<String>> ready = client.sendAsync(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort() + "/readyz")).build(),
        HttpResponse.BodyHandlers.ofString());

    // The single event loop thread is free while the ping is pending.
    assertThat(get("/healthz").body()).isEqualTo("ok");
    HttpResponse<String> response = ready.get();

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(AdminServer.PING_TIMEOUT);
  }

  @Test
  void readyz_pingThrowsSynchronously_isNotReady() throws Exception {
    start(OnError.DENY);
    store.throwing = true;

    assertThat(get("/readyz").statusCode()).isEqualTo(503);
  }

  @Test
  void metrics_afterDecisions_servesPrometheusTextWithSluiceNames() throws Exception {
    GatewayMetrics metrics = new GatewayMetrics(registry);
    metrics.onDecision(Decisions.request("GET", "/"), dev.sluice.engine.Decision.exempt(Decisions.client()), 1000);
    metrics.upstreamResponse(200, 1_000_000);
    start(OnError.ALLOW);

    HttpResponse<String> response = get("/metrics");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(response.body())
        .contains("# TYPE sluice_requests_total counter")
        .contains("sluice_requests_total{outcome=\"exempt\",policy=\"\",via=\"gateway\"} 1.0")
        .contains("# TYPE sluice_decision_seconds histogram")
        .contains("sluice_decision_seconds_count 1")
        .contains("sluice_store_errors_total 0.0")
        .contains("sluice_upstream_seconds_count{status=\"2xx\"} 1");
  }

  @Test
  void get_unknownPath_is404ProblemJson() throws Exception {
    start(OnError.ALLOW);

    HttpResponse<String> response = get("/v1/nothing?x=1");

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/problem+json");
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.get("status").asInt()).isEqualTo(404);
    assertThat(body.get("detail").asText())
        .isEqualTo("No admin resource at \"/v1/nothing\"; try /metrics, /healthz or /readyz.");
  }

  @Test
  void post_onKnownPath_is405WithAllow() throws Exception {
    start(OnError.ALLOW);

    HttpResponse<String> response = send("POST", "/metrics");

    assertThat(response.statusCode()).isEqualTo(405);
    assertThat(response.headers().firstValue("allow")).hasValue("GET, HEAD");
  }

  @Test
  void keepAlive_severalRequestsOnOneConnection_allAnswered() throws Exception {
    start(OnError.ALLOW);

    for (int i = 0; i < 5; i++) {
      assertThat(get(i % 2 == 0 ? "/readyz" : "/healthz").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void pipelinedRequests_readyzStillPending_answeredInRequestOrder() throws Exception {
    start(OnError.ALLOW);
    store.pending = new CompletableFuture<>();
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.address().getPort())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(("GET /readyz HTTP/1.1\r\nHost: a\r\n\r\n"
          + "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      // healthz is answered at once by the handler but must wait behind the pending readyz.
      await().atMost(Duration.ofSeconds(5)).until(() -> store.pingCalls.get() == 1);
      store.pending.complete(null);

      String responses = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);

      assertThat(responses).startsWith("HTTP/1.1 200 OK");
      assertThat(responses).containsSubsequence("\r\n\r\nready", "HTTP/1.1 200 OK", "\r\n\r\nok");
      assertThat(responses).endsWith("\r\n\r\nok");
    }
  }

  /** A store whose ping can be made to fail, throw or hang. */
  private static final class SwitchableStore implements Store {
    final AtomicReference<StoreException> failing = new AtomicReference<>();
    final AtomicInteger pingCalls = new AtomicInteger();
    volatile boolean hanging;
    volatile boolean throwing;
    volatile CompletableFuture<Void> pending;

    @Override
    public CompletionStage<Consumption> tryConsume(BucketKey key, BucketSpec spec, long cost) {
      throw new UnsupportedOperationException("the admin server never consumes");
    }

    @Override
    public CompletionStage<Void> ping() {
      pingCalls.incrementAndGet();
      if (throwing) {
        throw new IllegalStateException("store closed");
      }
      if (hanging) {
        return new CompletableFuture<>();
      }
      if (pending != null) {
        return pending;
      }
      StoreException failure = failing.get();
      return failure == null ? CompletableFuture.completedFuture(null) : CompletableFuture.failedFuture(failure);
    }

    @Override
    public void close() {}
  }
}
