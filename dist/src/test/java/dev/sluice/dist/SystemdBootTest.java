package dev.sluice.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.Executables;
import dev.sluice.testkit.ManagedProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Debian package under a real systemd: this machine's own system, booted as a container
 * ({@code systemd-nspawn --boot}, private network) on a throw-away overlay of {@code /}, so
 * nothing it does reaches the host. Inside it: {@code dpkg -i} (Java is there, so no dependency is
 * forced), the unit started by the package, ready, sandboxed, logging to the journal, reloaded with
 * a changed policy file, stopped, and the package purged.
 */
class SystemdBootTest {

  static Path layers;
  static Path merged;
  static ManagedProcess container;
  static long init;

  @BeforeAll
  static void boot() throws Exception {
    Executables.require("systemd-nspawn", "systemd-container", "/usr/bin/systemd-nspawn");
    // Not a @TempDir: its clean-up must never walk into a mounted overlay of the whole system.
    layers = Files.createTempDirectory("sluice-boot-test-");
    // The upper layer lives on its own tmpfs: overlayfs refuses an upper directory inside its lower one.
    Command.of("mount", "-t", "tmpfs", "-o", "size=1g", "sluice-boot-test", layers.toString()).ok();
    for (String dir : List.of("upper", "work", "merged")) {
      Files.createDirectories(layers.resolve(dir));
    }
    merged = layers.resolve("merged");
    Command.of("mount", "-t", "overlay", "overlay", "-o", "lowerdir=/,upperdir=" + layers.resolve("upper")
        + ",workdir=" + layers.resolve("work"), merged.toString()).ok();
    Files.copy(Dist.deb(), merged.resolve("root/sluice.deb"));
    // Build machines and container images often carry a policy-rc.d that forbids starting services
    // on install (exit 101); a server does not. Removed in the overlay only.
    Files.deleteIfExists(merged.resolve("usr/sbin/policy-rc.d"));

    // basic.target: systemd and the journal, without the host's enabled services (nginx, redis, …).
    container = ManagedProcess.builder("systemd-nspawn", List.of("systemd-nspawn", "--directory=" + merged,
            "--private-network", "--machine=sluice-boot-test", "--register=no", "--keep-unit",
            "--link-journal=no", "--console=pipe", "--boot", "systemd.unit=basic.target"))
        .start();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (init == 0) {
      init = container.isAlive() ? ProcessHandle.of(container.pid()).orElseThrow().children()
          .filter(p -> p.info().command().orElse("").endsWith("/systemd")).mapToLong(ProcessHandle::pid)
          .findFirst().orElse(0) : -1;
      if (init < 0 || System.nanoTime() > deadline) {
        throw new AssertionError("the container's systemd did not start\n" + container.logTail());
      }
      Thread.sleep(100); // waiting for another process to appear: no event to wait on
    }
    // Until its bus is up systemctl cannot even ask; then it says starting, then running.
    await(inside("systemctl", "is-system-running"),
        r -> r.output().strip().equals("running") || r.output().strip().equals("degraded"),
        "the container's systemd did not finish booting");
  }

  @AfterAll
  static void powerOff() throws Exception {
    if (container != null) {
      container.stop(Duration.ofSeconds(30)); // SIGTERM: nspawn shuts the container's systemd down
    }
    if (merged != null && Command.of("umount", merged.toString()).run().exitCode() != 0) {
      Command.of("umount", "--lazy", merged.toString()).run();
    }
    if (layers != null) {
      if (Command.of("umount", layers.toString()).run().exitCode() != 0) {
        Command.of("umount", "--lazy", layers.toString()).run();
      }
      Files.deleteIfExists(layers); // empty once its tmpfs is gone
    }
  }

  /** A command run in all of the container's namespaces (its root, its systemd, its network). */
  static Command inside(String... command) {
    List<String> full = new ArrayList<>(List.of("nsenter", "--target", Long.toString(init), "--all"));
    full.addAll(List.of(command));
    return Command.of(full).withoutEnv("DPKG_ROOT");
  }

  /** The container's loopback, from the host's healthcheck script (bash /dev/tcp). */
  static Command ready() {
    return Command.of("nsenter", "--target", Long.toString(init), "--net",
        Dist.repo().resolve("packaging/docker/healthcheck.sh").toString());
  }

  static Command.Result await(Command command, Predicate<Command.Result> done, String what) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    Command.Result last;
    do {
      last = command.run();
      if (done.test(last)) {
        return last;
      }
      Thread.sleep(250); // polling a service in another process
    } while (System.nanoTime() < deadline);
    throw new AssertionError(what + " within 60 s; last:\n" + last.describe()
        + inside("journalctl", "-u", "sluice", "--no-pager", "-n", "40").run().output() + "\n" + container.logTail());
  }

  static String status(String path) throws Exception {
    return inside("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080; printf 'GET " + path
        + " HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' >&3; head -1 <&3").ok().output().strip();
  }

  @Test
  void package_underSystemd_installsStartsReloadsLogsToTheJournalStopsAndPurges() throws Exception {
    Command.Result install = inside("dpkg", "--install", "/root/sluice.deb").run();
    assertThat(install.exitCode()).as(install.describe()).isZero();

    // The postinst enabled and started it; it becomes ready on the admin listener.
    assertThat(inside("systemctl", "is-enabled", "sluice").run().output().strip()).isEqualTo("enabled");
    await(ready(), r -> r.exitCode() == 0, "GET /readyz never answered 200");
    String pid = inside("systemctl", "show", "-P", "MainPID", "sluice").ok().output().strip();
    String proc = inside("cat", "/proc/" + pid + "/status").ok().output();
    // The first start has no class-data sharing archive yet: the launcher runs the JVM as its child,
    // which writes one into the unit's CacheDirectory when it stops.
    assertThat(inside("ps", "-ww", "-o", "user=,args=", "-p", pid, "--ppid", pid).ok().output())
        .startsWith("sluice ")
        .contains("java -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -XX:ArchiveClassesAtExit=/var/cache/sluice/sluice-serve-")
        .contains(" -Xms16m -Xmx512m -jar /usr/share/sluice/lib/sluice.jar serve -c /etc/sluice/sluice.yaml");
    assertThat(proc).as("no capabilities, no new privileges").contains("CapEff:\t0000000000000000", "NoNewPrivs:\t1");
    assertThat(inside("journalctl", "-u", "sluice", "--no-pager", "-o", "cat").ok().output())
        .as("the process log is in the journal").contains("sluice listening on 127.0.0.1:8080");

    // Reload with a stricter default: the second request is refused (no app runs: allowed = 502).
    assertThat(status("/a")).startsWith("HTTP/1.1 502");
    inside("sed", "-i", "s#limits: \\[\"100/minute\"\\]#limits: [\"1/minute\"]#", "/etc/sluice/sluice.yaml").ok();
    inside("systemctl", "reload", "sluice").ok();
    await(inside("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080; printf 'GET /b HTTP/1.1\\r\\nHost: x\\r\\n"
        + "Connection: close\\r\\n\\r\\n' >&3; head -1 <&3"), r -> r.output().startsWith("HTTP/1.1 429"),
        "the reloaded policy (1/minute) never refused a request");
    assertThat(inside("systemctl", "is-active", "sluice").run().output().strip()).isEqualTo("active");

    // Stop: SIGTERM, a clean exit.
    inside("systemctl", "stop", "sluice").ok();
    assertThat(inside("systemctl", "show", "-P", "Result", "sluice").ok().output().strip()).isEqualTo("success");
    assertThat(inside("journalctl", "-u", "sluice", "--no-pager", "-o", "cat").ok().output()).contains("sluice stopped");
    assertThat(inside("ls", "/var/cache/sluice").ok().output()).as("the class-data sharing archive").containsPattern("sluice-serve-\\d+\\.jsa");
    // The next start maps it.
    inside("systemctl", "start", "sluice").ok();
    await(ready(), r -> r.exitCode() == 0, "GET /readyz never answered 200 after a restart");
    String again = inside("systemctl", "show", "-P", "MainPID", "sluice").ok().output().strip();
    assertThat(inside("ps", "-ww", "-o", "args=", "-p", again).ok().output())
        .contains("-XX:SharedArchiveFile=/var/cache/sluice/sluice-serve-");
    inside("systemctl", "stop", "sluice").ok();

    Command.Result purge = inside("dpkg", "--purge", "sluice").run();
    assertThat(purge.exitCode()).as(purge.describe()).isZero();
    assertThat(inside("getent", "passwd", "sluice").run().exitCode()).as("the user is gone").isEqualTo(2);
    assertThat(merged.resolve("etc/sluice/sluice.yaml")).doesNotExist();
  }
}
