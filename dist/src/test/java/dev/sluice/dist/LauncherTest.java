package dev.sluice.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
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
        .withoutEnv("SLUICE_JAVA_OPTS");
  }

  @Test
  void serve_getsTheGatewayHeapAndCollector() throws Exception {
    Command.Result result = launcher("serve", "--help").ok();

    assertThat(result.output()).as(result.describe())
        .contains("-XX:MaxHeapSize=" + 512 * MIB, "-XX:InitialHeapSize=" + 64 * MIB, "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=50", "-XX:+ExitOnOutOfMemoryError")
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
        .doesNotContain("-XX:+UseG1GC", "-XX:MaxHeapSize=" + 512 * MIB);
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
