package dev.sluice.gateway.reload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.engine.Engine;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.ManualClock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyReloaderTest {
  private static final Map<String, String> ENV = Map.of("TOKEN", "0123456789abcdef0123", "OTHER", "fedcba98765432100123");

  @TempDir Path dir;
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  private static String file(String gatewayExtra, String storeAndMore, String limit) {
    return "version: 1\n"
        + "gateway:\n"
        + "  listen: 127.0.0.1:0\n"
        + "  admin: 127.0.0.1:0\n"
        + "  upstream: http://127.0.0.1:5000\n"
        + gatewayExtra
        + storeAndMore
        + "policies:\n"
        + "  - name: items\n"
        + "    match: { paths: [\"/api/items\"] }\n"
        + "    limits: [\"" + limit + "\"]\n";
  }

  private PolicyReloader reloader(Path path) throws Exception {
    SluiceConfig initial = ConfigLoader.load(path, ENV::get);
    Engine engine = Engine.builder().policies(initial.policies()).store(new MemoryStore(new ManualClock())).build();
    return new PolicyReloader(path, initial, Files.readAllBytes(path), engine, registry,
        InstantSource.fixed(Instant.parse("2026-12-05T12:00:00Z")), ENV::get);
  }

  @Test
  void reload_settingsThatNeedARestart_areEachNamedAndNothingChanges() throws Exception {
    Path path = dir.resolve("s.yaml");
    Files.writeString(path, file("  admin_token_env: TOKEN\n", "", "5/minute"));
    PolicyReloader reloader = reloader(path);
    Files.writeString(path, file("  admin_token_env: OTHER\n  drain_grace: 1s\n",
        "store: { timeout: 1s }\nheaders: legacy\n", "6/minute"));

    ReloadResult result = reloader.reload();

    assertThat(result.kind()).isEqualTo(ReloadResult.Kind.INVALID);
    assertThat(result.errors()).extracting(m -> m.substring(path.toString().length() + 2, m.indexOf(" changed")))
        .containsExactlyInAnyOrder("gateway.admin_token_env", "store.timeout", "headers", "gateway.drain_grace");
    assertThat(result.errors().get(0)).endsWith(
        "cannot change by a reload; restart sluice to apply it (nothing was reloaded: the running policies stay)");
    assertThat(reloader.current().version()).isEqualTo(1);
    assertThat(reloader.current().config().policies().policies().get(0).limits().get(0).quantity()).isEqualTo(5);
  }

  @Test
  void reload_changingTheAccessLog_needsARestart() throws Exception {
    Path path = dir.resolve("s.yaml");
    Files.writeString(path, file("", "access_log: a.jsonl\n", "5/minute"));
    PolicyReloader reloader = reloader(path);
    Files.writeString(path, file("", "access_log: b.jsonl\n", "6/minute"));

    ReloadResult result = reloader.reload();

    assertThat(result.kind()).isEqualTo(ReloadResult.Kind.INVALID);
    assertThat(result.errors()).containsExactly(path + ": access_log changed, and it cannot change by a reload;"
        + " restart sluice to apply it (nothing was reloaded: the running policies stay)");
    assertThat(reloader.current().version()).isEqualTo(1);
  }

  @Test
  void reload_sameBytes_isASuccessWithoutANewVersion_andHistoryKeepsTen() throws Exception {
    Path path = dir.resolve("s.yaml");
    Files.writeString(path, file("", "", "1/minute"));
    PolicyReloader reloader = reloader(path);

    ReloadResult same = reloader.reload();
    assertThat(same.ok()).isTrue();
    assertThat(same.changed()).isFalse();
    assertThat(same.version().version()).isEqualTo(1);
    for (int i = 2; i <= 13; i++) {
      Files.writeString(path, file("", "", i + "/minute"));
      assertThat(reloader.reload().version().version()).isEqualTo(i);
    }

    assertThat(reloader.history()).extracting(ConfigVersion::version).containsExactly(4, 5, 6, 7, 8, 9, 10, 11, 12, 13);
    assertThat(reloader.current().sha256()).isEqualTo(PolicyReloader.sha256(
        file("", "", "13/minute").getBytes(StandardCharsets.UTF_8)));
    assertThat(reloader.rollback(2).kind()).isEqualTo(ReloadResult.Kind.UNKNOWN_VERSION);
    assertThat(reloader.rollback(null).version().version()).isEqualTo(12);
    assertThat(reloader.rollback(null).version().version()).isEqualTo(11);
    assertThat(registry.scrape()).contains("sluice_config_info{sha256=\"" + reloader.current().sha256() + "\",version=\"11\"} 1")
        .doesNotContain("version=\"13\"} 1");
  }

  @Test
  void reload_unreadableFile_isRefusedWithItsReason() throws Exception {
    Path path = dir.resolve("s.yaml");
    Files.writeString(path, file("", "", "1/minute"));
    PolicyReloader reloader = reloader(path);
    Files.delete(path);

    assertThat(reloader.reload().errors()).containsExactly(path + ": cannot read the policy file: no such file");
    Files.write(path, new byte[] {(byte) 0xff, (byte) 0xfe});
    assertThat(reloader.reload().errors()).containsExactly(path + ": cannot read the policy file: it is not UTF-8 text");
  }
}
