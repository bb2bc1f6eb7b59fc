package dev.sluice.it;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP listener on 127.0.0.1 that counts every request it receives and relays it (method,
 * path, query, end-to-end headers) to a gateway, relaying the answer back. Lets a test count
 * exactly what a client sent, independently of the client's own count.
 */
final class CountingRelay implements AutoCloseable {
    private static final Set<String> HOP = Set.of("connection", "content-length", "host", "transfer-encoding",
            "keep-alive", "upgrade", "expect", "te", "trailer");
    private final HttpServer server;
    private final AtomicInteger count = new AtomicInteger();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    CountingRelay(URI next) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/", exchange -> {
            count.incrementAndGet();
            try (exchange) {
                if (next == null) {
                    exchange.sendResponseHeaders(204, -1);
                    return;
                }
                HttpRequest.Builder b = HttpRequest.newBuilder(next.resolve(exchange.getRequestURI().toString()))
                        .timeout(Duration.ofSeconds(30))
                        .method(exchange.getRequestMethod(), HttpRequest.BodyPublishers.noBody());
                for (Map.Entry<String, List<String>> h : exchange.getRequestHeaders().entrySet()) {
                    if (!HOP.contains(h.getKey().toLowerCase())) {
                        for (String v : h.getValue()) {
                            b.header(h.getKey(), v);
                        }
                    }
                }
                HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
                r.headers().map().forEach((k, vs) -> {
                    if (!HOP.contains(k.toLowerCase()) && !k.startsWith(":")) {
                        exchange.getResponseHeaders().put(k, vs);
                    }
                });
                byte[] body = r.body();
                exchange.sendResponseHeaders(r.statusCode(), body.length == 0 ? -1 : body.length);
                if (body.length > 0) {
                    try (OutputStream out = exchange.getResponseBody()) {
                        out.write(body);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    int count() {
        return count.get();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
