package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RedisServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Quieter outages (issue 16, point 8): a real redis-server killed and restarted while traffic
 * flows through {@code sluice serve} leaves one WARN line when the store goes down and one when
 * it comes back, not one per request, per ban refresh (every 250 ms) or per Lettuce reconnect.
 */
class QuietOutageEndToEndTest {

    @Test
    void redisKilledAndRestartedDuringTraffic_logsOneDownAndOneUpLine(@TempDir Path dir) throws Exception {
        try (RedisServer redis = RedisServer.start(); FlaskApp flask = FlaskApp.start()) {
            int[] ports = ServeProcess.ports();
            Path file = dir.resolve("sluice.yaml");
            Files.writeString(file, "version: 1\n"
                    + "gateway:\n"
                    + "  listen: 127.0.0.1:" + ports[0] + "\n"
                    + "  upstream: " + flask.uri() + "\n"
                    + "  admin: 127.0.0.1:" + ports[1] + "\n"
                    + RedisGatewayFixture.store(redis, "allow", "2s")
                    + RedisGatewayFixture.policy("items", "/api/items", "ip", "100000/minute"));
            try (ServeProcess sluice = ServeProcess.start("sluice-quiet-outage", file, ports[0], ports[1])) {
                AtomicBoolean stop = new AtomicBoolean();
                AtomicInteger sent = new AtomicInteger();
                Thread traffic = new Thread(() -> {
                    while (!stop.get()) {
                        try {
                            ServeProcess.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports[0]
                                    + "/api/items")).timeout(Duration.ofSeconds(10)).build(),
                                    HttpResponse.BodyHandlers.discarding());
                            sent.incrementAndGet();
                        } catch (Exception e) {
                            // counted by what the log shows; the loop keeps the traffic going
                        }
                    }
                }, "traffic");
                traffic.start();
                long[] downBefore = {0};
                long[] upBefore = {0};
                long[] warnBefore = {0};
                try {
                    await().atMost(Duration.ofSeconds(30)).until(() -> sent.get() > 20);
                    // A loaded machine may make the store slow before the kill; count from here.
                    downBefore[0] = count(sluice.log(), "Redis store is failing");
                    upBefore[0] = count(sluice.log(), "Redis store is reachable again");
                    warnBefore[0] = warnings(sluice.log());
                    redis.kill();
                    int atKill = sent.get();
                    // Down for several seconds: dozens of ban refreshes and reconnect attempts.
                    await().atMost(Duration.ofSeconds(60)).pollDelay(Duration.ofSeconds(4))
                            .until(() -> sent.get() > atKill + 50);
                    redis.restart();
                    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                            .until(() -> count(sluice.log(), "Redis store is reachable again") > upBefore[0]);
                    int atUp = sent.get();
                    await().atMost(Duration.ofSeconds(30)).until(() -> sent.get() > atUp + 20);
                } finally {
                    stop.set(true);
                    traffic.join(30_000);
                }
                String log = sluice.log();
                assertThat(count(log, "Redis store is failing") - downBefore[0]).as(log).isEqualTo(1);
                assertThat(count(log, "Redis store is reachable again") - upBefore[0]).as(log).isEqualTo(1);
                // The restarted Redis (no persistence) lost its state: that is a separate event, said once.
                assertThat(count(log, "the store lost its state")).as(log).isLessThanOrEqualTo(1);
                // Everything else WARN or worse during the outage is those two lines: no per-request,
                // per-ban-refresh (every 250 ms) or per-reconnect (Lettuce) lines.
                assertThat(warnings(log) - warnBefore[0] - count(log, "the store lost its state")).as(log).isEqualTo(2);
            }
        }
    }

    private static long warnings(String log) {
        return log.lines().filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).count();
    }

    private static long count(String log, String text) {
        return log.lines().filter(l -> l.contains(text)).count();
    }
}
