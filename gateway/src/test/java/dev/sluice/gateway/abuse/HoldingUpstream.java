package dev.sluice.gateway.abuse;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The upstream of the abuse-control tests: a JDK HTTP server on a free loopback port that can hold
 * requests and answer chosen statuses.
 *
 * <p>Routes: {@code /hold/...} waits until {@link #release(int)} gives it a pass (at most 20 s),
 * counting requests in progress ({@link #inflight()}, {@link #maxInflight()}); {@code
 * /status/<code>} answers that status; anything else answers 200 with the received body's
 * length and sha256 in {@code X-Body-Length} / {@code X-Body-Sha256}.
 */
final class HoldingUpstream implements AutoCloseable {
  record Received(String method, String path, int bodyLength, String bodySha256) {}

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "holding-upstream");
    t.setDaemon(true);
    return t;
  });
  private final Semaphore gate = new Semaphore(0);
  private final AtomicInteger inflight = new AtomicInteger();
  private final AtomicInteger maxInflight = new AtomicInteger();
  private final List<Received> received = new CopyOnWriteArrayList<>();

  HoldingUpstream() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 512);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  /** Requests the upstream is handling now. */
  int inflight() {
    return inflight.get();
  }

  /** The most requests it ever handled at once. */
  int maxInflight() {
    return maxInflight.get();
  }

  List<Received> received() {
    return List.copyOf(received);
  }

  /** Takes back every pass not used yet, so the next {@code /hold} requests wait again. */
  void closeGate() {
    gate.drainPermits();
  }

  /** Lets {@code n} held requests (present or future) answer. */
  void release(int n) {
    gate.release(n);
  }

  private void handle(HttpExchange exchange) throws IOException {
    int now = inflight.incrementAndGet();
    maxInflight.accumulateAndGet(now, Math::max);
    try (exchange) {
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readAllBytes();
      }
      String path = exchange.getRequestURI().getPath();
      received.add(new Received(exchange.getRequestMethod(), path, body.length, sha256(body)));
      int status = 200;
      if (path.contains("/hold")) {
        try {
          if (!gate.tryAcquire(20, TimeUnit.SECONDS)) {
            status = 500;
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      } else if (path.contains("/status/")) {
        status = Integer.parseInt(path.substring(path.indexOf("/status/") + "/status/".length()));
      }
      byte[] text = ("seen " + path + "\n").getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("X-Body-Length", Integer.toString(body.length));
      exchange.getResponseHeaders().set("X-Body-Sha256", sha256(body));
      exchange.sendResponseHeaders(status, text.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(text);
      }
    } catch (IOException e) {
      // the gateway went away mid-exchange (client aborted); nothing to answer
    } finally {
      inflight.decrementAndGet();
    }
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    gate.release(10_000);
    server.stop(0);
    executor.shutdownNow();
  }
}
