package dev.sluice.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.FreePort;
import dev.sluice.testkit.ManagedProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release tarball as an operator uses it: installed by {@code packaging/release.sh} (the
 * script the container image's build stage runs), then {@code bin/sluice --version},
 * {@code check} and {@code serve} with a readiness probe.
 */
class TarballTest {

  @TempDir static Path work;
  static Path home;
  static Command.Result installed;

  @BeforeAll
  static void install() throws Exception {
    home = work.resolve("opt/sluice");
    installed = Command.of(Dist.repo().resolve("packaging/release.sh").toString(),
        "--tarball", Dist.tarball().toString(), home.toString()).ok();
  }

  @Test
  void releaseScript_installsTheDocumentedLayout() {
    assertThat(home.resolve("bin/sluice")).isExecutable();
    assertThat(home.resolve("lib/sluice.jar")).isRegularFile();
    assertThat(home.resolve("conf/sluice.yaml")).isRegularFile();
    assertThat(home.resolve("LICENSE")).content().contains("Apache License", "Version 2.0");
    assertThat(home.resolve("README.md")).content().startsWith("# Sluice");
    assertThat(installed.output()).as(installed.describe()).contains("sluice installed in " + home);
  }

  @Test
  void version_namesTheVersionAndTheCommitItWasBuiltFrom() throws Exception {
    // Run from another folder, far from any checkout: the commit comes from the jar.
    Command.Result result = Command.of("/bin/sh", "-c", "cd / && exec \"$0\" --version",
        home.resolve("bin/sluice").toString()).ok();

    assertThat(result.output()).as(result.describe())
        .containsPattern("^sluice " + Dist.version().replace(".", "\\.") + " \\(commit [0-9a-f]{10}(-dirty)?\\)\n")
        .contains("Java ");
  }

  @Test
  void check_shippedPolicyFile_isValid() throws Exception {
    Command.Result result = Command.of(home.resolve("bin/sluice").toString(), "check", "-c",
        home.resolve("conf/sluice.yaml").toString()).ok();

    assertThat(result.output()).contains("valid", "login");
  }

  @Test
  void serve_onFreePorts_becomesReady_andTheContainerHealthcheckAgrees() throws Exception {
    int port = FreePort.find();
    int admin = FreePort.find();
    Path conf = work.resolve("serve.yaml");
    Files.writeString(conf, Files.readString(home.resolve("conf/sluice.yaml"))
        .replace("127.0.0.1:8080", "127.0.0.1:" + port)
        .replace("127.0.0.1:9090", "127.0.0.1:" + admin));
    Path healthcheck = Dist.repo().resolve("packaging/docker/healthcheck.sh");

    try (ManagedProcess sluice = ManagedProcess.builder("tarball-serve",
            java.util.List.of(home.resolve("bin/sluice").toString(), "serve", "-c", conf.toString()))
        .environment("SLUICE_CDS_DIR", work.resolve("cds").toString())
        .readyWhenHttpOk(URI.create("http://127.0.0.1:" + admin + "/readyz"))
        .startupTimeout(Duration.ofSeconds(60))
        .start()) {
      HttpResponse<String> ready = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/readyz")).build(),
          HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      assertThat(ready.statusCode()).isEqualTo(200);
      // The first start (no class-data sharing archive yet) runs java as the launcher's child, so
      // that the archive it writes at exit can be moved into place; later starts exec java.
      java.util.List<Long> pids = new java.util.ArrayList<>(java.util.List.of(sluice.pid()));
      ProcessHandle.of(sluice.pid()).ifPresent(p -> p.children().forEach(c -> pids.add(c.pid())));
      String cmdlines = "";
      for (long p : pids) {
        cmdlines += Files.readString(Path.of("/proc/" + p + "/cmdline")).replace('\0', ' ') + "\n";
      }
      assertThat(cmdlines).contains(Launcher.GATEWAY_OPTIONS).contains("-jar " + home.resolve("lib/sluice.jar"));

      Command.Result healthy = Command.of(healthcheck.toString()).env("SLUICE_ADMIN_PORT", Integer.toString(admin)).run();
      assertThat(healthy.exitCode()).as(healthy.describe()).isZero();

      sluice.stop();
      Command.Result gone = Command.of(healthcheck.toString()).env("SLUICE_ADMIN_PORT", Integer.toString(admin)).run();
      assertThat(gone.exitCode()).as(gone.describe()).isNotZero();
    }
  }
}
