package dev.sluice.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.FreePort;
import dev.sluice.testkit.ManagedProcess;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JVM options of packaging/bin/sluice (the launcher of the tarball, the .deb and the image,
 * which ./sluice runs too), read back from the JVM itself with -XX:+PrintCommandLineFlags.
 */
class LauncherTest {

  private static final long MIB = 1024 * 1024;

  private static Command launcher(String... args) {
    String[] command = new String[args.length + 1];
    command[0] = Dist.repo().resolve("packaging/bin/sluice").toString();
    System.arraycopy(args, 0, command, 1, args.length);
    return Command.of(command)
        .env("SLUICE_JAR", System.getProperty("sluice.cli.jar", Dist.repo().resolve("cli/target/sluice.jar").toString()))
        .env("JAVA_OPTS", "-XX:+PrintCommandLineFlags")
        .env("SLUICE_CDS", "off")
        .withoutEnv("SLUICE_JAVA_OPTS");
  }

  private static String cliJar() {
    return System.getProperty("sluice.cli.jar", Dist.repo().resolve("cli/target/sluice.jar").toString());
  }

  private static List<Path> archives(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.sorted().toList();
    }
  }

  /** serve on free ports through the launcher, until /readyz answers 200, then SIGTERM. */
  private static String serveOnce(Path work, Path cds, String name) throws Exception {
    int port = FreePort.find();
    int admin = FreePort.find();
    Path conf = work.resolve(name + ".yaml");
    Files.writeString(conf, "version: 1\ngateway:\n  listen: 127.0.0.1:" + port
        + "\n  upstream: http://127.0.0.1:9\n  admin: 127.0.0.1:" + admin + "\n  drain_grace: 0s\n"
        + "store:\n  type: memory\npolicies:\n  - name: all\n    match: { paths: [\"/**\"] }\n    by: ip\n    limits: [\"5/second\"]\n");
    try (ManagedProcess sluice = ManagedProcess.builder(name,
            List.of(Dist.repo().resolve("packaging/bin/sluice").toString(), "serve", "-c", conf.toString()))
        .environment("SLUICE_JAR", cliJar())
        .environment("SLUICE_CDS_DIR", cds.toString())
        .environment("SLUICE_LAUNCHER_DEBUG", "1")
        .environment("SLUICE_CDS", "on")
        .environment("JAVA_OPTS", "")
        .environment("SLUICE_JAVA_OPTS", "")
        .readyWhenHttpOk(URI.create("http://127.0.0.1:" + admin + "/readyz"))
        .startupTimeout(Duration.ofSeconds(90))
        .start()) {
      // What the process maps: a JVM that uses the archive has the file mapped.
      String seen = Files.readString(Path.of("/proc/" + sluice.pid() + "/cmdline")).replace('\0', ' ')
          + "\n" + Files.readString(Path.of("/proc/" + sluice.pid() + "/maps"));
      sluice.stop(Duration.ofSeconds(60));
      assertThat(sluice.isAlive()).isFalse();
      String log = Files.readString(sluice.logFile());
      assertThat(log).doesNotContain("warning][cds", "error][cds");
      return seen + "\n" + log;
    }
  }

  @Test
  void serve_firstRunWritesAClassDataSharingArchive_laterRunsUseIt(@TempDir Path work) throws Exception {
    Path cds = work.resolve("cache/sluice");

    serveOnce(work, cds, "first");

    // Written under a temporary name, moved into place after the clean stop: one archive.
    List<Path> written = archives(cds);
    assertThat(written).hasSize(1);
    assertThat(written.get(0).getFileName().toString()).matches("sluice-serve-\\d+\\.jsa");
    assertThat(Files.size(written.get(0))).isGreaterThan(1024 * 1024);

    String second = serveOnce(work, cds, "second");
    assertThat(second).contains("-XX:SharedArchiveFile=" + written.get(0), "class-data sharing archive " + written.get(0))
        .doesNotContain("ArchiveClassesAtExit");
    assertThat(second.lines().filter(l -> l.endsWith(written.get(0).toString()))).as("mapped by the JVM").isNotEmpty();
    assertThat(archives(cds)).hasSize(1);
  }

  /**
   * A JDK stand-in for the launcher's Java 25 branch (CI has only Java 17): its release file
   * names {@code version}, and its bin/java records its arguments and, like a real JDK asked for
   * -XX:AOTCacheOutput (25) or -XX:ArchiveClassesAtExit, writes that file before it exits 0. What the JVM then does with the
   * cache is measured by bench/cold.py on a real Temurin 25 (docs/benchmarks.md §4).
   */
  private static Path jdk(Path work, String version) throws Exception {
    Path home = work.resolve("jdk-" + version);
    Files.createDirectories(home.resolve("bin"));
    Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"stand-in\"\nJAVA_VERSION=\"" + version + "\"\n");
    Path java = Files.writeString(home.resolve("bin/java"), """
        #!/bin/sh
        printf '%s\\n' "$*" >> "$(dirname "$0")/../calls"
        for arg in "$@"; do
          case "$arg" in -XX:AOTCacheOutput=* | -XX:ArchiveClassesAtExit=*) head -c 2048 /dev/zero > "${arg#*=}" ;; esac
        done
        """);
    java.toFile().setExecutable(true);
    return home;
  }

  private static Command.Result serveWith(Path jdk, Path cds, String... env) throws Exception {
    Command command = launcher("serve", "-c", "sluice.yaml").env("JAVA_HOME", jdk.toString())
        .env("SLUICE_CDS", "on").env("SLUICE_CDS_DIR", cds.toString()).env("SLUICE_LAUNCHER_DEBUG", "1");
    for (int i = 0; i < env.length; i += 2) {
      command = command.env(env[i], env[i + 1]);
    }
    return command.ok();
  }

  @Test
  void serve_onJava25_firstRunRecordsAnAotCache_laterRunsUseIt(@TempDir Path work) throws Exception {
    Path jdk = jdk(work, "25.0.1");
    Path cds = work.resolve("cache/sluice");

    serveWith(jdk, cds);

    List<Path> written = archives(cds);
    assertThat(written).as("one cache, moved into place, no temporary file").hasSize(1);
    assertThat(written.get(0).getFileName().toString()).matches("sluice-serve-\\d+\\.aot");
    List<String> calls = Files.readAllLines(jdk.resolve("calls"));
    assertThat(calls).hasSize(1);
    assertThat(calls.get(0)).contains("-XX:AOTCacheOutput=" + written.get(0) + ".", "-Xlog:cds=error,aot=error",
        "-XX:+UseSerialGC").doesNotContain("ArchiveClassesAtExit", "SharedArchiveFile");

    Command.Result second = serveWith(jdk, cds);

    calls = Files.readAllLines(jdk.resolve("calls"));
    assertThat(calls).hasSize(2);
    assertThat(calls.get(1)).contains("-XX:AOTCache=" + written.get(0)).doesNotContain("AOTCacheOutput", "SharedArchive");
    assertThat(second.output()).contains("AOT cache " + written.get(0));
  }

  @Test
  void serve_onJava25_withAotOff_orOnJava24_usesAClassDataSharingArchive(@TempDir Path work) throws Exception {
    Path cds = work.resolve("cache/sluice");
    Path jdk25 = jdk(work, "25");
    Path jdk24 = jdk(work, "24.0.2");

    serveWith(jdk25, cds, "SLUICE_AOT", "off");
    serveWith(jdk24, cds.resolve("24"));

    assertThat(Files.readString(jdk25.resolve("calls"))).contains("-XX:ArchiveClassesAtExit=").doesNotContain("AOT");
    assertThat(Files.readString(jdk24.resolve("calls"))).contains("-XX:ArchiveClassesAtExit=").doesNotContain("AOT");
    assertThat(archives(cds).stream().map(p -> p.getFileName().toString()))
        .anyMatch(n -> n.matches("sluice-serve-\\d+\\.jsa"));
  }

  @Test
  void serve_withAnUnwritableCacheFolder_runsWithoutAnArchive_andSaysWhyWhenAsked(@TempDir Path work) throws Exception {
    Path notADir = Files.writeString(work.resolve("file"), "x");

    Command.Result result = launcher("serve", "--help").env("SLUICE_CDS", "on")
        .env("SLUICE_CDS_DIR", notADir.resolve("cds").toString()).env("SLUICE_LAUNCHER_DEBUG", "1").ok();

    assertThat(result.output()).as(result.describe())
        .contains("no class-data sharing archive: " + notADir.resolve("cds") + " cannot be created or written",
            "Usage: sluice serve")
        .doesNotContain("SharedArchiveFile", "ArchiveClassesAtExit");
  }

  @Test
  void serve_aFailedFirstRunLeavesNoArchive(@TempDir Path work) throws Exception {
    Path cds = work.resolve("cds");
    Path bad = Files.writeString(work.resolve("bad.yaml"), "version: 1\ngateway: [\n");

    Command.Result result = launcher("serve", "-c", bad.toString()).env("SLUICE_CDS", "on")
        .env("SLUICE_CDS_DIR", cds.toString()).run();

    assertThat(result.exitCode()).as(result.describe()).isEqualTo(2);
    assertThat(archives(cds)).as("no archive and no temporary file").isEmpty();
  }

  @Test
  void serve_getsTheGatewayHeapAndCollector() throws Exception {
    Command.Result result = launcher("serve", "--help").ok();

    assertThat(result.output()).as(result.describe())
        .contains("-XX:MaxHeapSize=" + 512 * MIB, "-XX:InitialHeapSize=" + 16 * MIB, "-XX:+UseSerialGC",
            "-XX:+ExitOnOutOfMemoryError")
        .doesNotContain("TieredStopAtLevel");
  }

  @Test
  void check_startsFastWithC1AndTheSerialCollector() throws Exception {
    Command.Result result = launcher("check", "--help").ok();

    assertThat(result.output()).as(result.describe())
        .contains("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
        .doesNotContain("-XX:MaxHeapSize=" + 512 * MIB);
  }

  @Test
  void sluiceJavaOpts_replaceTheDefaultHeapAndCollector_andKeepTheRest() throws Exception {
    Command.Result result = launcher("serve", "--help")
        .env("SLUICE_JAVA_OPTS", "-Xmx200m -XX:+UseParallelGC").ok();

    // Two collectors would stop the JVM ("multiple garbage collectors selected"): exit 0 says not.
    assertThat(result.output()).as(result.describe())
        .contains("-XX:MaxHeapSize=" + 200 * MIB, "-XX:+UseParallelGC", "-XX:+ExitOnOutOfMemoryError")
        .doesNotContain("-XX:+UseSerialGC", "-XX:MaxHeapSize=" + 512 * MIB);
  }

  @Test
  void sluiceJavaOpts_winOverJavaOpts() throws Exception {
    Command.Result result = launcher("serve", "--help")
        .env("JAVA_OPTS", "-XX:+PrintCommandLineFlags -Xmx300m")
        .env("SLUICE_JAVA_OPTS", "-Xmx200m").ok();

    assertThat(result.output()).as(result.describe()).contains("-XX:MaxHeapSize=" + 200 * MIB);
  }

  @Test
  void maxRamPercentage_replacesTheFixedHeap() throws Exception {
    Command.Result result = launcher("serve", "--help").env("SLUICE_JAVA_OPTS", "-XX:MaxRAMPercentage=10").ok();

    assertThat(result.output()).as(result.describe())
        .contains("-XX:MaxRAMPercentage=10")
        .doesNotContain("-XX:MaxHeapSize=" + 512 * MIB);
  }

  @Test
  void noJava_saysWhatToInstall() throws Exception {
    Command.Result result = launcher("--version").env("JAVA_HOME", "/nonexistent-jdk").run();

    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.output()).contains("sluice: no Java runtime found (JAVA_HOME=/nonexistent-jdk",
        "install Java 17 or newer, or set JAVA_HOME");
  }

  @Test
  void missingJar_saysTheInstallationIsIncomplete(@TempDir Path dir) throws Exception {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path link = Files.createSymbolicLink(bin.resolve("sluice"), Dist.repo().resolve("packaging/bin/sluice"));
    Command.Result result = Command.of(link.toString(), "--version").withoutEnv("SLUICE_JAR").run();
    Files.delete(link);

    // Through the link, the installation is the real script's folder: packaging/lib/ has no jar.
    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.output()).contains("sluice: " + Dist.repo().resolve("packaging/lib/sluice.jar")
        + " is missing: this installation is incomplete");
  }

  @Test
  void repositoryLauncher_runsThePackagedLauncher() throws Exception {
    // ./sluice (given the reactor's jar, so it does not build) hands over to packaging/bin/sluice:
    // the same JVM options as every installation.
    Command.Result result = Command.of(Dist.repo().resolve("sluice").toString(), "check", "--help")
        .env("SLUICE_JAR", System.getProperty("sluice.cli.jar", Dist.repo().resolve("cli/target/sluice.jar").toString()))
        .env("JAVA_OPTS", "-XX:+PrintCommandLineFlags").withoutEnv("SLUICE_JAVA_OPTS").ok();

    assertThat(result.output()).as(result.describe()).contains("-XX:TieredStopAtLevel=1", "Usage: sluice check");
  }
}
