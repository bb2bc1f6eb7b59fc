package dev.sluice.gateway.decision;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.gateway.reload.PolicyReloader;
import dev.sluice.gateway.reload.ReloadResult;
import dev.sluice.time.Clock;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One {@code sluice serve} with both the gateway (in front of a real HTTP upstream on a socket)
 * and the decision API: one engine, one state. A client limited through one front end is limited
 * through the other; the decision API's refusal is byte for byte the gateway's; a reload changes
 * the decisions of both.
 */
class DecisionWithGatewayTest {
  @TempDir Path dir;
  private HttpServer upstream;

  @BeforeEach
  void startUpstream() throws Exception {
    upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    upstream.createContext("/", exchange -> {
      exchange.getRequestBody().readAllBytes();
      byte[] body = "hello".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    upstream.start();
  }

  @AfterEach
  void stopUpstream() {
    upstream.stop(0);
  }

  private String file(String limit) {
    return DecisionFixture.yaml("  upstream: http://127.0.0.1:" + upstream.getAddress().getPort() + "\n", "", """
        policies:
          - name: search
            match: { paths: ["/api/search"] }
            by: ip
            limits: ["%s"]
        """.formatted(limit));
  }

  private static String decide(String peer) {
    return "{\"method\":\"GET\",\"path\":\"/api/search\",\"peer\":\"" + peer + "\"}";
  }

  private HttpResponse<String> viaGateway(DecisionFixture f, String target) throws Exception {
    return f.client.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + f.gateway.address().getPort() + target)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void gatewayAndDecisionApi_shareOneBucket_andRefuseWithTheSameBytes() throws Exception {
    try (DecisionFixture f = DecisionFixture.start(DecisionFixture.parse(file("2/minute")), Clock.system())) {
      HttpResponse<String> first = viaGateway(f, "/api/search");
      assertThat(first.statusCode()).isEqualTo(200);
      assertThat(first.body()).isEqualTo("hello");
      JsonNode second = f.decide(decide("127.0.0.1"));
      assertThat(second.get("allowed").asBoolean()).isTrue();
      assertThat(second.get("headers").get("RateLimit").asText()).as("one token left after the gateway's request")
          .isEqualTo("\"search\";r=0;t=30");

      HttpResponse<String> refused = viaGateway(f, "/api/search");
      assertThat(refused.statusCode()).as("the decision API's request used the gateway's bucket").isEqualTo(429);
      JsonNode answer = f.decide(decide("127.0.0.1"));
      assertThat(answer.get("status").asInt()).isEqualTo(429);

      // The same fields, values and body bytes as the gateway's 429 (the wait is the same second).
      String gatewayBody = refused.body();
      String decisionBody = DecisionFixture.JSON.writeValueAsString(answer.get("body"));
      assertThat(decisionBody).isEqualTo(gatewayBody);
      Set<String> names = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
      answer.get("headers").fieldNames().forEachRemaining(names::add);
      for (String name : names) {
        assertThat(refused.headers().allValues(name)).as(name)
            .containsExactly(answer.get("headers").get(name).asText());
      }
      for (String name : refused.headers().map().keySet()) {
        if (!name.equalsIgnoreCase("content-length") && !name.equalsIgnoreCase("connection")) {
          assertThat(names).as("the decision API answers every field the gateway sends").contains(name);
        }
      }
      String metrics = f.metrics();
      assertThat(metrics)
          .contains("sluice_requests_total{outcome=\"allowed\",policy=\"search\",via=\"gateway\"} 1.0")
          .contains("sluice_requests_total{outcome=\"allowed\",policy=\"search\",via=\"decision\"} 1.0")
          .contains("sluice_requests_total{outcome=\"limited\",policy=\"search\",via=\"gateway\"} 1.0")
          .contains("sluice_requests_total{outcome=\"limited\",policy=\"search\",via=\"decision\"} 1.0");
    }
  }

  @Test
  void reload_changesTheDecisionApisDecisions() throws Exception {
    Path policy = dir.resolve("sluice.yaml");
    Files.writeString(policy, file("1/minute"));
    SluiceConfig config = ConfigLoader.load(policy, Map.<String, String>of()::get);
    try (DecisionFixture f = DecisionFixture.start(config, Clock.system())) {
      PolicyReloader reloader = new PolicyReloader(policy, config, Files.readAllBytes(policy), f.gateway.engine(),
          f.gateway.registry(), InstantSource.system(), Map.<String, String>of()::get);
      assertThat(f.decide(decide("203.0.113.1")).get("allowed").asBoolean()).isTrue();
      assertThat(f.decide(decide("203.0.113.1")).get("status").asInt()).isEqualTo(429);

      Files.writeString(policy, file("5/minute"));
      ReloadResult result = reloader.reload();
      assertThat(result.ok()).as(String.valueOf(result)).isTrue();

      JsonNode after = f.decide(decide("203.0.113.2"));
      assertThat(after.get("headers").get("RateLimit-Policy").asText()).isEqualTo("\"search\";q=5;w=60");
      for (int i = 0; i < 4; i++) {
        assertThat(f.decide(decide("203.0.113.2")).get("allowed").asBoolean()).as("request %d", i + 2).isTrue();
      }
      assertThat(f.decide(decide("203.0.113.2")).get("status").asInt()).isEqualTo(429);
    }
  }

  @Test
  void stopAccepting_closesTheDecisionListenerToo() throws Exception {
    try (DecisionFixture f = DecisionFixture.start(DecisionFixture.parse(file("100/minute")), Clock.system())) {
      assertThat(f.decide(decide("203.0.113.3")).get("allowed").asBoolean()).isTrue();
      int port = f.address().getPort();
      assertThat(f.gateway.stopAccepting().awaitIdle(5_000)).isTrue();
      try (java.net.Socket s = new java.net.Socket()) {
        org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> s.connect(new InetSocketAddress("127.0.0.1", port), 2_000))
            .isInstanceOf(java.io.IOException.class);
      }
    }
  }
}
