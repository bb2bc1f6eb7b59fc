package dev.sluice.benchmarks.floor;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The floor must do the bench's job, or its figures mean nothing: refuse mode answers Sluice's 429
 * on every keep-alive request, proxy mode forwards to the upstream and back over kept connections.
 */
class NettyFloorTest {

  @Test
  void refuse_answersSluices429_onEveryKeepAliveRequest_andClosesWhenAsked() throws IOException {
    try (NettyFloor floor = NettyFloor.start("127.0.0.1", 0, NettyFloor.Mode.REFUSE, -1);
        Socket socket = new Socket("127.0.0.1", floor.port())) {
      socket.setSoTimeout(5_000);
      for (int i = 0; i < 3; i++) {
        Response r = exchange(socket, "GET /limited HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(r.statusLine).isEqualTo("HTTP/1.1 429 Too Many Requests");
        assertThat(r.headers).containsExactly(
            Map.entry("content-type", "application/problem+json"),
            Map.entry("content-length", "282"),
            Map.entry("cache-control", "no-store"),
            Map.entry("retry-after", "1"),
            Map.entry("ratelimit-policy", "\"flood\";q=10;w=1"),
            Map.entry("ratelimit", "\"flood\";r=0;t=1"));
        assertThat(r.body).hasSize(282).startsWith("{\"type\":").endsWith("\"retry_after\":1}");
        assertThat(r.wireBytes).isEqualTo(RefuseHandler.RESPONSE.length());
      }
      Response last = exchange(socket, "GET /limited HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assertThat(last.statusLine).isEqualTo("HTTP/1.1 429 Too Many Requests");
      assertThat(socket.getInputStream().read()).as("closed after Connection: close").isEqualTo(-1);
    }
  }

  @Test
  void proxy_forwardsKeepAliveRequests_overOneUpstreamConnection() throws IOException {
    HttpServer upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    AtomicInteger count = new AtomicInteger();
    List<Integer> upstreamPeers = new ArrayList<>();
    upstream.createContext("/", exchange -> {
      synchronized (upstreamPeers) {
        upstreamPeers.add(exchange.getRemoteAddress().getPort());
      }
      byte[] body = ("hello " + count.incrementAndGet() + " " + exchange.getRequestURI()).getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("X-Upstream", "jdk");
      exchange.sendResponseHeaders(exchange.getRequestURI().getPath().equals("/missing") ? 404 : 200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    upstream.start();
    try (NettyFloor floor = NettyFloor.start("127.0.0.1", 0, NettyFloor.Mode.PROXY, upstream.getAddress().getPort());
        Socket socket = new Socket("127.0.0.1", floor.port())) {
      socket.setSoTimeout(5_000);
      for (int i = 1; i <= 3; i++) {
        String path = i == 2 ? "/missing" : "/free";
        Response r = exchange(socket, "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(r.statusLine).startsWith(i == 2 ? "HTTP/1.1 404" : "HTTP/1.1 200");
        assertThat(r.headers).containsEntry("x-upstream", "jdk");
        assertThat(r.body).isEqualTo("hello " + i + " " + path);
      }
      assertThat(upstreamPeers).hasSize(3).as("one upstream connection, reused").containsOnly(upstreamPeers.get(0));
      Response last = exchange(socket, "GET /free HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assertThat(last.body).isEqualTo("hello 4 /free");
      assertThat(socket.getInputStream().read()).as("closed after Connection: close").isEqualTo(-1);
    } finally {
      upstream.stop(0);
    }
  }

  private record Response(String statusLine, Map<String, String> headers, String body, int wireBytes) {}

  /** Sends one request and reads one response with a content-length body. */
  private static Response exchange(Socket socket, String request) throws IOException {
    socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
    InputStream in = socket.getInputStream();
    String statusLine = line(in);
    int wire = statusLine.length() + 2;
    Map<String, String> headers = new LinkedHashMap<>();
    for (String line = line(in); !line.isEmpty(); line = line(in)) {
      wire += line.length() + 2;
      int colon = line.indexOf(':');
      headers.put(line.substring(0, colon).toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
    }
    wire += 2;
    byte[] body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
    return new Response(statusLine, headers, new String(body, StandardCharsets.UTF_8), wire + body.length);
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        throw new IOException("connection closed mid-response");
      }
      if (b != '\r') {
        out.write(b);
      }
    }
    return out.toString(StandardCharsets.US_ASCII);
  }
}
