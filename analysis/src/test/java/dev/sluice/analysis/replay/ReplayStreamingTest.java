package dev.sluice.analysis.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.analysis.logs.SluiceLogParser;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replay streams: it decides lines while the log is still being written (through a named pipe), so
 * it never holds the log. The writer withholds the second half until replay has decided the first
 * line; a reader that loaded the whole log first would never get there.
 */
class ReplayStreamingTest {
  @TempDir Path dir;

  @Test
  void replay_decidesTheFirstLines_beforeTheLogIsComplete() throws Exception {
    Path file = dir.resolve("sluice.yaml");
    Files.writeString(file, """
        version: 1
        gateway:
          listen: 127.0.0.1:0
          upstream: http://127.0.0.1:9
          admin: 127.0.0.1:0
        defaults:
          by: ip
          limits: ["10/minute"]
        """);
    SluiceConfig config = ConfigLoader.load(file);
    Path fifo = dir.resolve("access.fifo");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
    assertThat(mkfifo.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(mkfifo.exitValue()).isZero();

    CountDownLatch firstDecided = new CountDownLatch(1);
    AtomicLong decided = new AtomicLong();
    CompletableFuture<Boolean> writer = CompletableFuture.supplyAsync(() -> {
      try (BufferedWriter out = Files.newBufferedWriter(fifo, StandardCharsets.UTF_8)) {
        for (int i = 0; i < 20_000; i++) {
          if (i == 10_000) {
            out.flush();
            if (!firstDecided.await(60, TimeUnit.SECONDS)) {
              return false;
            }
          }
          out.write("{\"time\":\"2026-12-05T10:00:" + String.format("%02d", (i / 1000) % 60) + ".000Z\",\"method\":\"GET\","
              + "\"path\":\"/x\",\"client_ip\":\"10.0." + (i % 50) + ".1\",\"identities\":{\"ip\":\"10.0." + (i % 50)
              + ".1\"}}\n");
        }
        return true;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    ReplayReport report = new Replay(config, ClientKeys.of(config), (line, decision, outcome) -> {
      decided.incrementAndGet();
      firstDecided.countDown();
    }).run(fifo, new SluiceLogParser(), "sluice");
    assertThat(writer.get(60, TimeUnit.SECONDS)).as("replay decided lines before the log was complete").isTrue();
    assertThat(decided.get()).isEqualTo(20_000);
    assertThat(report.requests()).isEqualTo(20_000);
    ReplayReport.PolicyReport defaults = report.policies().get(0);
    assertThat(defaults.name()).isEqualTo("default");
    // 50 addresses, 400 requests each from second 0 to 19: GCRA admits the burst of 10 plus one
    // token per 6 s, ⌊19 · 10 / 60⌋ = 3, so 13 each.
    assertThat(defaults.limited()).isEqualTo(20_000 - 50 * 13);
    assertThat(defaults.top()).hasSize(10);
  }
}
