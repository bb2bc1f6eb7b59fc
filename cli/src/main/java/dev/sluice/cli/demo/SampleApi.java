package dev.sluice.cli.demo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A tiny JSON API on a free loopback port: {@code GET /api/search?q=}, {@code GET /api/items},
 * {@code POST /auth/login}, {@code GET /} — enough routes to show per-route policies.
 *
 * <p>It echoes the {@code X-Forwarded-For} it received, so the demo shows what the gateway sends
 * upstream. Thread-safe; {@link #close()} stops it.
 */
public final class SampleApi implements AutoCloseable {
  private static final List<String> ITEMS =
      List.of("apple", "apricot", "banana", "blueberry", "cherry", "grape", "lemon", "mango", "peach", "plum");

  private final HttpServer server;
  private final ExecutorService executor;
  private final AtomicLong requests = new AtomicLong();

  private SampleApi(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Starts the API on {@code 127.0.0.1} and a free port.
   *
   * @throws IOException when no socket can be bound
   */
  public static SampleApi start() throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "sample-api");
      t.setDaemon(true);
      return t;
    });
    SampleApi api = new SampleApi(server, executor);
    server.createContext("/", api::handle);
    server.setExecutor(executor);
    server.start();
    return api;
  }

  /** Where the API listens. */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  /** How many requests reached the API (the gateway's 429s never do). */
  public long requests() {
    return requests.get();
  }

  private void handle(HttpExchange exchange) throws IOException {
    requests.incrementAndGet();
    try (exchange; InputStream body = exchange.getRequestBody()) {
      body.readAllBytes();
      String method = exchange.getRequestMethod();
      String path = exchange.getRequestURI().getPath();
      String forwardedFor = exchange.getRequestHeaders().getFirst("X-Forwarded-For");
      String client = forwardedFor == null ? "\"unknown\"" : quote(forwardedFor);
      switch (path) {
        case "/api/search" -> {
          String q = query(exchange.getRequestURI().getRawQuery(), "q");
          StringBuilder results = new StringBuilder();
          for (String item : ITEMS) {
            if (item.contains(q.toLowerCase(Locale.ROOT))) {
              results.append(results.length() == 0 ? "" : ", ").append(quote(item));
            }
          }
          send(exchange, 200, "{\"query\": " + quote(q) + ", \"results\": [" + results + "], \"client\": " + client + "}");
        }
        case "/api/items" -> {
          StringBuilder all = new StringBuilder();
          for (String item : ITEMS) {
            all.append(all.length() == 0 ? "" : ", ").append(quote(item));
          }
          send(exchange, 200, "{\"items\": [" + all + "]}");
        }
        case "/auth/login" -> {
          if (!method.equals("POST")) {
            exchange.getResponseHeaders().set("Allow", "POST");
            send(exchange, 405, "{\"error\": \"use POST\"}");
          } else {
            send(exchange, 401, "{\"error\": \"invalid credentials (this demo accepts nobody)\"}");
          }
        }
        case "/" -> send(exchange, 200, "{\"service\": \"sluice demo api\", \"routes\": [\"/api/search?q=\", \"/api/items\", \"POST /auth/login\"]}");
        default -> send(exchange, 404, "{\"error\": \"no such route\", \"path\": " + quote(path) + "}");
      }
    }
  }

  private static void send(HttpExchange exchange, int status, String json) throws IOException {
    byte[] bytes = (json + "\n").getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  private static String query(String rawQuery, String name) {
    if (rawQuery == null) {
      return "";
    }
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      if (key.equals(name)) {
        return java.net.URLDecoder.decode(eq < 0 ? "" : pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    return "";
  }

  private static String quote(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }

  /** Stops the server at once. */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
