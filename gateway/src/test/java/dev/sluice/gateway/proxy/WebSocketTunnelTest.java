package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.config.ConfigLoader;
import dev.sluice.gateway.Gateway;
import dev.sluice.store.MemoryStore;
import dev.sluice.testkit.Executables;
import dev.sluice.testkit.FreePort;
import dev.sluice.testkit.ManagedProcess;
import dev.sluice.testkit.RepoRoot;
import dev.sluice.time.ManualClock;
import io.micrometer.core.instrument.Gauge;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * WebSocket tunnels end to end (SPEC §12): the JDK's WebSocket client through Sluice to a real
 * WebSocket upstream (a Flask app under gunicorn with gevent-websocket's worker, {@code
 * src/test/resources/websocket/app.py}), which counts the handshakes it completed and the
 * tunnels it has open.
 */
@Timeout(120)
class WebSocketTunnelTest {
  private static final String POLICY =
      """
      version: 1
      gateway:
        listen: 127.0.0.1:0
        upstream: http://127.0.0.1:%d
        admin: 127.0.0.1:0
        upstream_timeout: 5s
        header_timeout: 1s
        body_timeout: 1s
        max_connections_per_ip: %d
      policies:
        - name: scarce
          match: { paths: ["/ws/scarce"] }
          by: ip
          limits: ["1/minute"]
        - name: sockets
          match: { paths: ["/ws/echo"] }
          by: ip
          limits: ["1000/minute"]
          concurrency: 2
      """;

  private static ManagedProcess upstream;
  private static int upstreamPort;
  private static final ObjectMapper json = new ObjectMapper();
  private static final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  private Gateway gateway;
  private MemoryStore store;
  private final List<WebSocket> sockets = new java.util.ArrayList<>();

  @BeforeAll
  static void startUpstream() {
    Path gunicorn = Executables.require("gunicorn", "gunicorn", "/usr/bin/gunicorn");
    if (!Files.isDirectory(Path.of("/usr/lib/python3/dist-packages/geventwebsocket"))) {
      throw new IllegalStateException("gevent-websocket for Debian's python is not installed; install the Debian "
          + "packages: apt-get install -y python3-gevent python3-gevent-websocket "
          + "(./scripts/test.sh installs every package the tests need)");
    }
    Path appDir = RepoRoot.find().resolve("gateway/src/test/resources/websocket");
    upstreamPort = FreePort.find();
    upstream = ManagedProcess.builder("gunicorn-websocket", List.of(
            gunicorn.toString(),
            "--workers", "1",
            "-k", "geventwebsocket.gunicorn.workers.GeventWebSocketWorker",
            "--bind", "127.0.0.1:" + upstreamPort,
            "--graceful-timeout", "2",
            "--chdir", appDir.toString(),
            "app:app"))
        .directory(appDir)
        .environment("PYTHONDONTWRITEBYTECODE", "1")
        .environment("PYTHONUNBUFFERED", "1")
        .readyWhenHttpOk(URI.create("http://127.0.0.1:" + upstreamPort + "/healthz"))
        .start();
  }

  @AfterAll
  static void stopUpstream() {
    if (upstream != null) {
      upstream.stop();
    }
  }

  @BeforeEach
  void startGateway() throws Exception {
    startGateway(100);
  }

  private void startGateway(int maxConnectionsPerIp) throws Exception {
    ManualClock clock = new ManualClock(); // never advanced: "1/minute" admits exactly one
    store = new MemoryStore(clock, 10_000);
    gateway = Gateway.start(
        ConfigLoader.parse(POLICY.formatted(upstreamPort, maxConnectionsPerIp), "ws.yaml"), store, clock);
  }

  @AfterEach
  void stopGateway() {
    sockets.forEach(WebSocket::abort);
    await().atMost(Duration.ofSeconds(20)).until(() -> upstreamStats().get("open").asInt() == 0);
    gateway.close();
    store.close();
  }

  @Test
  void echoThroughSluice_bothWays_includingAMessageLargerThan64KiB() throws Exception {
    Client client = open("/ws/echo");
    client.socket.sendText("hello", true).get(10, TimeUnit.SECONDS);
    assertThat(client.next()).isEqualTo("hello");
    String large = "0123456789abcdef".repeat(100 * 1024 / 16 * 3); // 300 KiB, several TCP writes
    client.socket.sendText(large, true).get(10, TimeUnit.SECONDS);
    assertThat(client.next()).isEqualTo(large);
    client.socket.sendText("after", true).get(10, TimeUnit.SECONDS);
    assertThat(client.next()).isEqualTo("after");
    assertThat(upstreamStats().get("upgrades").asInt()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void refusedUpgrade_gets429WithRateLimitHeaders_andTheUpstreamNeverSeesIt() throws Exception {
    int before = upstreamStats().get("upgrades").asInt();
    Client allowed = open("/ws/scarce"); // the one allowed by 1/minute
    allowed.socket.sendText("in", true).get(10, TimeUnit.SECONDS);
    assertThat(allowed.next()).isEqualTo("in");
    assertThat(upstreamStats().get("upgrades").asInt()).isEqualTo(before + 1);

    assertThatThrownBy(() -> open("/ws/scarce"))
        .hasCauseInstanceOf(WebSocketHandshakeException.class)
        .satisfies(e -> {
          HttpResponse<?> refused = ((WebSocketHandshakeException) e.getCause()).getResponse();
          assertThat(refused.statusCode()).isEqualTo(429);
          assertThat(refused.headers().firstValue("Retry-After")).isPresent();
          assertThat(refused.headers().firstValue("RateLimit-Policy")).isPresent();
        });
    assertThat(upstreamStats().get("upgrades").asInt()).isEqualTo(before + 1);
  }

  @Test
  void concurrencyTwo_thirdTunnelRefusedWhileTwoAreOpen_allowedAgainAfterOneCloses() throws Exception {
    Client first = open("/ws/echo");
    Client second = open("/ws/echo");
    await().atMost(Duration.ofSeconds(10)).until(() -> tunnelsOpen() == 2);

    assertThatThrownBy(() -> open("/ws/echo"))
        .hasCauseInstanceOf(WebSocketHandshakeException.class)
        .satisfies(e -> assertThat(((WebSocketHandshakeException) e.getCause()).getResponse().statusCode())
            .isEqualTo(429));
    // Both tunnels still relay.
    second.socket.sendText("still here", true).get(10, TimeUnit.SECONDS);
    assertThat(second.next()).isEqualTo("still here");

    first.socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> tunnelsOpen() == 1);
    Client third = open("/ws/echo");
    third.socket.sendText("third", true).get(10, TimeUnit.SECONDS);
    assertThat(third.next()).isEqualTo("third");
  }

  @Test
  void gauge_countsOpenTunnels_andReturnsToZero() throws Exception {
    assertThat(tunnelsOpen()).isZero();
    double openedBefore = gateway.registry().get("sluice_websocket_tunnels_opened").counter().count();
    Client a = open("/ws/echo");
    Client b = open("/ws/echo");
    await().atMost(Duration.ofSeconds(10)).until(() -> tunnelsOpen() == 2);
    assertThat(gateway.registry().get("sluice_websocket_tunnels_opened").counter().count()).isEqualTo(openedBefore + 2);
    a.socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(10, TimeUnit.SECONDS);
    b.socket.abort();
    await().atMost(Duration.ofSeconds(10)).until(() -> tunnelsOpen() == 0);
    System.gc(); // the gauge's state is held strongly: no NaN after a collection
    assertThat(tunnelsOpen()).isZero();
  }

  @Test
  void nonSwitchingAnswerToAnUpgrade_isRelayedAsANormalResponse_andTheConnectionStaysHttp() throws Exception {
    int before = upstreamStats().get("upgrades").asInt();
    int refusedBefore = upstreamStats().get("refused").asInt();
    try (RawConnection raw = new RawConnection(gateway.address())) {
      // The upstream answers this upgrade with a plain 403 instead of switching.
      raw.send("GET /ws/refuse HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
      RawConnection.Response refused = raw.read();
      assertThat(refused.status()).isEqualTo(403);
      assertThat(new String(refused.body(), StandardCharsets.UTF_8)).isEqualTo("no tunnels here\n");
      assertThat(refused.headers()).doesNotContainKey("upgrade");
      raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
      RawConnection.Response next = raw.read();
      assertThat(next.status()).isEqualTo(200);
      assertThat(new String(next.body(), StandardCharsets.UTF_8)).isEqualTo("ok\n");
    }
    assertThat(upstreamStats().get("refused").asInt()).isEqualTo(refusedBefore + 1);
    assertThat(upstreamStats().get("upgrades").asInt()).isEqualTo(before);
    assertThat(tunnelsOpen()).isZero();
  }

  @Test
  void clientClosingTheConnection_closesTheUpstreamSide() throws Exception {
    int closedBefore = upstreamStats().get("closed").asInt();
    Client client = open("/ws/echo");
    client.socket.sendText("ping", true).get(10, TimeUnit.SECONDS);
    assertThat(client.next()).isEqualTo("ping");
    assertThat(upstreamStats().get("open").asInt()).isEqualTo(1);
    client.socket.abort(); // TCP close, no close frame: only the gateway can tell the upstream
    await().atMost(Duration.ofSeconds(10)).until(() -> upstreamStats().get("closed").asInt() == closedBefore + 1);
    assertThat(upstreamStats().get("open").asInt()).isZero();
    await().atMost(Duration.ofSeconds(10)).until(() -> tunnelsOpen() == 0);
  }

  @Test
  void silentTunnel_outlivesTheHeadAndBodyTimeoutsAndTheUpstreamTimeout() throws Exception {
    Client client = open("/ws/echo");
    // header_timeout and body_timeout are 1 s: an HTTP connection this silent would get 408.
    await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() -> tunnelsOpen() == 1);
    client.socket.sendText("still open", true).get(10, TimeUnit.SECONDS);
    assertThat(client.next()).isEqualTo("still open");
    assertThat(gateway.registry().get("sluice_client_timeouts").tag("phase", "head").counter().count()).isZero();
  }

  @Test
  void openTunnels_countAsConnectionsForMaxConnectionsPerIp() throws Exception {
    gateway.close();
    store.close();
    startGateway(2);
    Client first = open("/ws/echo");
    open("/ws/echo");
    await().atMost(Duration.ofSeconds(10)).until(() -> gateway.openConnections() == 2);
    // A third connection from the same address is closed at accept, whatever it asks for.
    assertThatThrownBy(() -> open("/ws/echo")).isInstanceOf(java.util.concurrent.ExecutionException.class);
    assertThat(gateway.registry().get("sluice_connections_refused").tag("reason", "max_connections_per_ip")
        .counter().count()).isGreaterThanOrEqualTo(1);
    first.socket.abort();
    await().atMost(Duration.ofSeconds(10)).until(() -> gateway.openConnections() == 1);
    Client again = open("/ws/echo");
    again.socket.sendText("room again", true).get(10, TimeUnit.SECONDS);
    assertThat(again.next()).isEqualTo("room again");
  }

  @Test
  void clientFasterThanTheUpstreamReads_isHeldBackByBackpressure_thenEverythingArrives() throws Exception {
    int chunks = 40; // 40 MiB: far more than the socket buffers on the way hold
    Client client = open("/ws/sink");
    java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
    CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
      byte[] chunk = new byte[1 << 20];
      for (int i = 0; i < chunks; i++) {
        client.socket.sendBinary(ByteBuffer.wrap(chunk), true).join();
        sent.incrementAndGet();
      }
    });
    // The upstream reads nothing yet: the gateway must stop reading the client (its sends stall)
    // instead of taking everything into memory.
    int[] last = {-1};
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2)).until(() -> {
      int now = sent.get();
      boolean stalled = now == last[0];
      last[0] = now;
      return stalled;
    });
    assertThat(sent.get()).as("MiB accepted while the upstream reads nothing").isLessThan(chunks);
    assertThat(sending).isNotDone();

    http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + upstreamPort + "/__open_sink")).GET().build(),
        HttpResponse.BodyHandlers.discarding());
    sending.get(90, TimeUnit.SECONDS);
    client.socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(90))
        .until(() -> upstreamStats().get("sink_bytes").asLong() == (long) chunks << 20);
  }

  private double tunnelsOpen() {
    Gauge gauge = gateway.registry().get("sluice_websocket_tunnels_open").gauge();
    return gauge.value();
  }

  private Client open(String path) throws Exception {
    BlockingQueue<String> received = new LinkedBlockingQueue<>();
    WebSocket.Listener listener = new WebSocket.Listener() {
      private final StringBuilder partial = new StringBuilder();

      @Override
      public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
          received.add(partial.toString());
          partial.setLength(0);
        }
        webSocket.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
        webSocket.request(1);
        return null;
      }
    };
    CompletableFuture<WebSocket> future = http.newWebSocketBuilder()
        .connectTimeout(Duration.ofSeconds(5))
        .buildAsync(URI.create("ws://127.0.0.1:" + gateway.address().getPort() + path), listener);
    WebSocket socket = future.get(15, TimeUnit.SECONDS);
    sockets.add(socket);
    return new Client(socket, received);
  }

  private static JsonNode upstreamStats() throws Exception {
    HttpResponse<String> response = http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + upstreamPort + "/__stats")).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    return json.readTree(response.body());
  }

  private record Client(WebSocket socket, BlockingQueue<String> received) {
    String next() throws InterruptedException {
      String message = received.poll(15, TimeUnit.SECONDS);
      assertThat(message).as("an echo within 15 s").isNotNull();
      return message;
    }
  }
}
