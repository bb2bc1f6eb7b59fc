package dev.sluice.gateway.abuse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.policy.StatusRange;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The exchange lifecycle over real sockets: {@code Decision.onResponse} with the upstream's status
 * ({@code count:}), and {@code Decision.release} exactly once however the exchange ends
 * ({@code concurrency:} permits always come back).
 */
@Timeout(60)
class ExchangeLifecycleTest {
  private static final String PERMIT_KEY = "exports|ip:127.0.0.1";
  private static final long LEASE = Duration.ofMinutes(5).toNanos();

  private HoldingUpstream upstream;
  private AbuseGateway gateway;

  @BeforeEach
  void startUpstream() throws Exception {
    upstream = new HoldingUpstream();
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    upstream.close();
  }

  private AbuseGateway concurrencyGateway(int concurrency) {
    return AbuseGateway.builder(upstream.port())
        .policy(AbuseGateway.policy("exports", "/hold/**", "ip", "100000/minute")
            .paths(List.of("/hold/**", "/status/**", "/upload/**"))
            .concurrency(concurrency)
            .build())
        .start();
  }

  private CompletableFuture<HttpResponse<String>> getAsync(String target) {
    return gateway.client.sendAsync(HttpRequest.newBuilder(gateway.uri(target)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void concurrencyCap_twentyParallelRequests_neverExceededAndExcessGets429() throws Exception {
    gateway = concurrencyGateway(2);
    List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      responses.add(getAsync("/hold/" + i));
    }
    // Two are held upstream; the other eighteen are refused without reaching it.
    await().atMost(Duration.ofSeconds(10)).until(() -> responses.stream().filter(CompletableFuture::isDone).count() == 18);
    assertThat(upstream.inflight()).isEqualTo(2);
    upstream.release(2);
    List<Integer> statuses = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> r : responses) {
      statuses.add(r.get().statusCode());
    }

    assertThat(statuses).filteredOn(s -> s == 200).hasSize(2);
    assertThat(statuses).filteredOn(s -> s == 429).hasSize(18);
    assertThat(upstream.maxInflight()).isEqualTo(2);
    HttpResponse<String> refused = responses.stream().map(CompletableFuture::join)
        .filter(r -> r.statusCode() == 429).findFirst().orElseThrow();
    assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(refused.headers().firstValue("RateLimit-Policy"))
        .hasValue("\"exports/concurrency\";q=2;qu=\"concurrent-requests\"");
    assertThat(refused.headers().firstValue("RateLimit")).hasValue("\"exports/concurrency\";r=0;t=1");
    assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(refused.body())
        .contains("\"type\":\"https://iana.org/assignments/http-problem-types#quota-exceeded\"")
        .contains("Concurrency limit of policy \\\"exports\\\" reached: at most 2 requests")
        .contains("\"violated-policies\":[\"exports/concurrency\"]")
        .contains("\"limit\":\"concurrency: 2\"");
  }

  @Test
  void thousandAbortedRequests_concurrencyTwo_everyPermitComesBack() throws Exception {
    gateway = concurrencyGateway(2);
    byte[] held = "GET /hold/a HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    byte[] midBody = "POST /upload/a HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\npartial"
        .getBytes(StandardCharsets.US_ASCII);
    byte[] quick = "GET /status/200 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    byte[] headOnly = "GET /status/200 HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII);
    byte[][] kinds = {held, midBody, quick, headOnly};
    for (int i = 0; i < 1000; i++) {
      try (Socket socket = new Socket("127.0.0.1", gateway.gateway.address().getPort())) {
        OutputStream out = socket.getOutputStream();
        out.write(kinds[i % kinds.length]);
        out.flush();
        if (i % 8 == 0) {
          socket.getInputStream().read(); // sometimes abort mid-response instead of before it
        }
        socket.setSoLinger(true, 0); // an abortive close (RST), like a client that crashed
      }
      if (kinds[i % kinds.length] == held) {
        upstream.release(1); // so the upstream's handler threads do not pile up
      }
    }
    upstream.closeGate();

    // Every permit returns: the store grants both permits again (then gives them back).
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      boolean first = gateway.store.acquirePermit(PERMIT_KEY, 2, LEASE).toCompletableFuture().join();
      boolean second = gateway.store.acquirePermit(PERMIT_KEY, 2, LEASE).toCompletableFuture().join();
      if (first) {
        gateway.store.releasePermit(PERMIT_KEY).toCompletableFuture().join();
      }
      if (second) {
        gateway.store.releasePermit(PERMIT_KEY).toCompletableFuture().join();
      }
      assertThat(first && second).as("both permits free").isTrue();
    });
    // And the gateway itself admits exactly two again.
    CompletableFuture<HttpResponse<String>> a = getAsync("/hold/x");
    CompletableFuture<HttpResponse<String>> b = getAsync("/hold/y");
    // Wait for these two exchanges' own permits, not just the upstream's count: requests of aborted
    // clients may still be finishing at the upstream and would make it read 2 too early.
    await().atMost(Duration.ofSeconds(10)).until(
        () -> ((dev.sluice.store.MemoryStore) gateway.store).permitsHeld(PERMIT_KEY) == 2);
    assertThat(gateway.get("/status/200").statusCode()).isEqualTo(429);
    // A held request of an aborted client can still reach the upstream after closeGate() and take
    // a released slot before ours: release one slot at a time until both of ours have answered.
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
      if (!a.isDone() || !b.isDone()) {
        upstream.release(1);
      }
      return a.isDone() && b.isDone();
    });
    assertThat(a.get().statusCode()).isEqualTo(200);
    assertThat(b.get().statusCode()).isEqualTo(200);
  }

  @Test
  void upstreamTimeout_504_releasesThePermit() throws Exception {
    gateway = AbuseGateway.builder(upstream.port())
        .upstreamTimeout(Duration.ofMillis(300))
        .policy(AbuseGateway.policy("exports", "/hold/**", "ip", "100000/minute")
            .paths(List.of("/hold/**", "/status/**"))
            .concurrency(1)
            .build())
        .start();

    assertThat(gateway.get("/hold/1").statusCode()).isEqualTo(504);
    assertThat(gateway.get("/status/200").statusCode()).isEqualTo(200);
    assertThat(gateway.get("/hold/2").statusCode()).isEqualTo(504);
  }

  @Test
  void upstreamUnreachable_502_releasesThePermit() throws Exception {
    int closedPort;
    try (ServerSocket probe = new ServerSocket(0)) {
      closedPort = probe.getLocalPort();
    }
    gateway = AbuseGateway.builder(closedPort)
        .policy(AbuseGateway.policy("exports", "/x/**", "ip", "100000/minute").concurrency(1).build())
        .start();

    assertThat(gateway.get("/x/1").statusCode()).isEqualTo(502);
    assertThat(gateway.get("/x/2").statusCode()).isEqualTo(502);
    assertThat(gateway.get("/x/3").statusCode()).isEqualTo(502);
  }

  @Test
  void countOnly401_upstream200sDoNotCount_401sDo() throws Exception {
    gateway = AbuseGateway.builder(upstream.port())
        .policy(AbuseGateway.policy("login", "/status/**", "ip", "3/minute")
            .count(List.of(StatusRange.of(401)))
            .build())
        .start();

    for (int i = 0; i < 10; i++) {
      assertThat(gateway.get("/status/200").statusCode()).as("success %d", i).isEqualTo(200);
    }
    for (int i = 0; i < 3; i++) {
      assertThat(gateway.get("/status/401").statusCode()).as("failure %d", i).isEqualTo(401);
    }
    HttpResponse<String> limited = gateway.get("/status/401");

    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(gateway.get("/status/200").statusCode()).isEqualTo(429);
    assertThat(upstream.received()).hasSize(13);
  }
}
