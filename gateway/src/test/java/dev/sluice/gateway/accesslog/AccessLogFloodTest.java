package dev.sluice.gateway.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.config.ConfigLoader;
import dev.sluice.gateway.Gateway;
import dev.sluice.store.MemoryStore;
import dev.sluice.testkit.FlaskApp;
import io.micrometer.core.instrument.Counter;
import dev.sluice.time.ManualClock;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13: under a 20,000-request flood against a real gateway and upstream, the access log has
 * exactly one line per request, no secret appears raw, and a legitimate client's p99 latency with
 * the log on stays within (generous) noise of the same flood with the log off: the log never
 * stalls the event loop.
 *
 * <p>"One line per request" is checked against the gateway's own count of decided requests
 * ({@code sluice_requests_total}), not only the client's: about once in 100,000–200,000 requests
 * the JDK client (17) drops a reused keep-alive connection on which the answer to its request has
 * already arrived and sends the GET again on a new one, and the gateway rightly decides and logs
 * both. A bare thread-per-connection server that never closes a connection sees the same repeats
 * from the same client, so they are the client's; the test prints them instead of failing as a
 * miscounted log.
 */
class AccessLogFloodTest {
  private static final int FLOOD = 20_000;
  private static final int FLOOD_THREADS = 4;
  private static final int LEGIT = 400;
  private static final String SECRET = "flood-secret-key-";

  @TempDir Path dir;

  private record Run(long p99Nanos, long decided, long written, long dropped) {}

  /** Requests the gateway decided: each request here matches exactly one policy. */
  private static long decided(Gateway gateway) {
    return Math.round(gateway.registry().find("sluice.requests").counters().stream().mapToDouble(Counter::count).sum());
  }

  private Run run(String accessLogLine) throws Exception {
    try (FlaskApp upstream = FlaskApp.start()) {
      String yaml = """
          version: 1
          gateway:
            listen: 127.0.0.1:0
            upstream: %s
            admin: 127.0.0.1:0
          clients:
            api_key: { header: X-API-Key }
          %s
          policies:
            - name: flood
              match: { paths: ["/api/search"] }
              by: [api_key, ip]
              limits: ["3/minute"]
            - name: legit
              match: { paths: ["/api/items"] }
              by: ip
              limits: ["1000000/minute"]
          """.formatted(upstream.uri(), accessLogLine);
      Path file = dir.resolve("sluice-" + System.nanoTime() + ".yaml");
      Files.writeString(file, yaml);
      ManualClock clock = new ManualClock();
      Gateway gateway = Gateway.start(ConfigLoader.load(file), new MemoryStore(clock, 100_000), clock);
      ExecutorService threads = Executors.newFixedThreadPool(FLOOD_THREADS);
      try {
        String base = "http://127.0.0.1:" + gateway.address().getPort();
        AtomicInteger next = new AtomicInteger();
        List<Future<?>> flooders = new ArrayList<>();
        for (int t = 0; t < FLOOD_THREADS; t++) {
          flooders.add(threads.submit(() -> {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            int i;
            while ((i = next.getAndIncrement()) < FLOOD) {
              // Mostly one hot key (429s that never reach the upstream); one request in 10 has a
              // fresh key and is forwarded.
              String key = SECRET + (i % 10 == 0 ? Integer.toString(i) : "hot");
              HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/api/search?q=" + i))
                  .timeout(Duration.ofSeconds(60)).header("X-API-Key", key).build();
              int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
              assertThat(status).isIn(200, 429);
            }
            return null;
          }));
        }
        HttpClient legit = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        long[] latencies = new long[LEGIT];
        for (int i = 0; i < LEGIT; i++) {
          long start = System.nanoTime();
          HttpResponse<Void> response = legit.send(HttpRequest.newBuilder(URI.create(base + "/api/items"))
              .timeout(Duration.ofSeconds(60)).build(),
              HttpResponse.BodyHandlers.discarding());
          latencies[i] = System.nanoTime() - start;
          assertThat(response.statusCode()).isEqualTo(200);
        }
        for (Future<?> f : flooders) {
          f.get(5, TimeUnit.MINUTES);
        }
        Arrays.sort(latencies);
        long p99 = latencies[(int) Math.ceil(LEGIT * 0.99) - 1];
        // Every answer the clients got was decided (and counted) before it was written.
        long decided = decided(gateway);
        assertThat(decided).as("requests the gateway decided").isGreaterThanOrEqualTo(FLOOD + LEGIT);
        AccessLog log = gateway.accessLog();
        if (log.enabled()) {
          // untilAsserted: a timeout then says how many lines were missing.
          await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(log.written() + log.dropped())
              .as("lines written %d + dropped %d", log.written(), log.dropped()).isEqualTo(decided));
        }
        if (decided != FLOOD + LEGIT) {
          System.out.printf("the clients sent %d requests, the gateway decided %d: the JDK client sent a GET "
              + "again on a new connection%n", FLOOD + LEGIT, decided);
        }
        return new Run(p99, decided, log.written(), log.dropped());
      } finally {
        threads.shutdownNow();
        gateway.close();
      }
    }
  }

  @Test
  void flood_oneLinePerRequest_noRawSecret_legitP99WithinNoiseOfNoLog() throws Exception {
    Run without = run("");
    Run with = run("access_log: access.jsonl");

    Path access = dir.resolve("access.jsonl");
    List<String> lines = Files.readAllLines(access, StandardCharsets.UTF_8);
    assertThat(with.dropped()).isZero();
    Map<String, Long> statuses = lines.stream().collect(Collectors.groupingBy(
        l -> l.replaceAll(".*\"status\":(\\d+).*", "$1"), TreeMap::new, Collectors.counting()));
    assertThat(lines).as("access log lines; by status %s", statuses).hasSize((int) with.decided());
    long resent = with.decided() - (FLOOD + LEGIT);
    assertThat(lines.stream().filter(l -> l.contains("\"path\":\"/api/items\"")).count()).isBetween((long) LEGIT, LEGIT + resent);
    assertThat(lines.stream().filter(l -> l.contains("\"outcome\":\"limited\"")).count()).isPositive();
    assertThat(Files.readString(access, StandardCharsets.UTF_8)).doesNotContain(SECRET).doesNotContain("flood-secret");

    // Generous: the machine is shared and loaded. A log that blocked the event loop on disk
    // writes would add milliseconds to every request, far beyond this bound.
    long bound = 4 * without.p99Nanos() + TimeUnit.MILLISECONDS.toNanos(100);
    System.out.printf("legit p99 without access log %.2f ms, with %.2f ms (bound %.2f ms); lines by status %s%n",
        without.p99Nanos() / 1e6, with.p99Nanos() / 1e6, bound / 1e6, statuses);
    assertThat(with.p99Nanos()).as("legit p99 with the access log (ns)").isLessThan(bound);
  }
}
