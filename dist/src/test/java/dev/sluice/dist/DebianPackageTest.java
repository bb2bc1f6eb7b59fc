package dev.sluice.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.Executables;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The .deb that {@code mvn package} builds, inspected with dpkg-deb and installed with dpkg into a
 * throw-away root ({@code dpkg --root=DIR --force-script-chrootless}: the maintainer scripts run
 * on the host with DPKG_ROOT=DIR and change only files below it). The host's own users and dpkg
 * database are never touched; the test proves it for /etc/passwd.
 */
class DebianPackageTest {

  private static final String SYSTEMD_ANALYZE =
      Executables.require("systemd-analyze", "systemd", "/usr/bin/systemd-analyze").toString();

  @TempDir Path root;

  static Command.Result dpkgDeb(String... args) throws Exception {
    String[] command = new String[args.length + 2];
    command[0] = "dpkg-deb";
    System.arraycopy(args, 0, command, 1, args.length);
    command[command.length - 1] = Dist.deb().toString();
    return Command.of(command).ok();
  }

  /** An empty system: a root user and an empty dpkg database, nothing else. */
  @BeforeEach
  void emptyRoot() throws Exception {
    for (String dir : List.of("etc", "var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "var/log")) {
      Files.createDirectories(root.resolve(dir));
    }
    Files.writeString(root.resolve("var/lib/dpkg/status"), "");
    Files.writeString(root.resolve("var/lib/dpkg/available"), "");
    Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    Files.writeString(root.resolve("etc/group"), "root:x:0:\n");
    Files.writeString(root.resolve("etc/shadow"), "root:*:19000:0:99999:7:::\n");
    Files.writeString(root.resolve("etc/gshadow"), "root:*::\n");
  }

  private Command.Result dpkg(String... args) throws Exception {
    // deb-systemd-helper (init-system-helpers) must be there too: the maintainer scripts call it.
    Executables.require("deb-systemd-helper", "init-system-helpers", "/usr/bin/deb-systemd-helper");
    String[] command = new String[args.length + 5];
    command[0] = "dpkg";
    command[1] = "--root=" + root;
    command[2] = "--force-script-chrootless";
    command[3] = "--force-depends"; // Java and passwd are not in the throw-away root
    command[4] = "--log=" + root.resolve("var/log/dpkg.log");
    System.arraycopy(args, 0, command, 5, args.length);
    return Command.of(command).withoutEnv("DPKG_ROOT").ok();
  }

  private Command.Result install() throws Exception {
    return dpkg("--force-confold", "--install", Dist.deb().toString());
  }

  private long usersNamedSluice() throws Exception {
    return Files.readAllLines(root.resolve("etc/passwd")).stream().filter(l -> l.startsWith("sluice:")).count();
  }

  @Test
  void info_describesThePackageAndItsMaintainerScripts() throws Exception {
    Command.Result info = dpkgDeb("--info");

    assertThat(info.output()).as(info.describe())
        .contains("Package: sluice", "Architecture: all",
            "Depends: default-jre-headless (>= 2:1.17) | java17-runtime-headless, passwd")
        .containsPattern("Version: " + Dist.version().replace("-", "~").replace(".", "\\.") + "\n")
        .contains("conffiles", "postinst", "prerm", "postrm");
    Command.Result conffiles = Command.of("dpkg-deb", "--info", Dist.deb().toString(), "conffiles").ok();
    assertThat(conffiles.output().lines().toList())
        .as(conffiles.describe())
        .containsExactlyInAnyOrder("/etc/sluice/sluice.yaml", "/etc/default/sluice", "/etc/default/sluice-decision");
  }

  @Test
  void contents_putEachFileWhereDebianExpectsIt() throws Exception {
    Command.Result contents = dpkgDeb("--contents");

    assertThat(contents.output()).as(contents.describe())
        .containsPattern("-rwxr-xr-x root/root .* \\./usr/share/sluice/bin/sluice\n")
        .containsPattern("-rw-r--r-- root/root .* \\./usr/share/sluice/lib/sluice\\.jar\n")
        .containsPattern("l\\S+ root/root .* \\./usr/bin/sluice -> \\.\\./share/sluice/bin/sluice\n")
        .containsPattern("-rw-r--r-- root/root .* \\./etc/sluice/sluice\\.yaml\n")
        .containsPattern("-rw------- root/root .* \\./etc/default/sluice\n")
        .containsPattern("-rw-r--r-- root/root .* \\./lib/systemd/system/sluice\\.service\n")
        .containsPattern("-rw-r--r-- root/root .* \\./lib/systemd/system/sluice-decision\\.service\n")
        .contains("./usr/share/doc/sluice/copyright", "./usr/share/doc/sluice/examples/decision.yaml");
  }

  @Test
  void install_createsTheSystemUserEnablesTheGatewayAndRuns() throws Exception {
    byte[] hostPasswd = Files.readAllBytes(Path.of("/etc/passwd"));

    install();

    assertThat(Files.readAllBytes(Path.of("/etc/passwd"))).as("the host's /etc/passwd").isEqualTo(hostPasswd);
    List<String> user = Files.readAllLines(root.resolve("etc/passwd")).stream().filter(l -> l.startsWith("sluice:")).toList();
    assertThat(user).singleElement().satisfies(line -> {
      String[] f = line.split(":");
      assertThat(Integer.parseInt(f[2])).as("a system uid").isBetween(100, 999);
      assertThat(f[5]).isEqualTo("/var/lib/sluice");
      assertThat(f[6]).isEqualTo("/usr/sbin/nologin");
    });
    assertThat(Files.readString(root.resolve("etc/group"))).containsPattern("(?m)^sluice:x:\\d+:$");
    assertThat(root.resolve("etc/systemd/system/multi-user.target.wants/sluice.service"))
        .as("enabled like any Debian service").isSymbolicLink();
    assertThat(root.resolve("etc/systemd/system/multi-user.target.wants/sluice-decision.service"))
        .as("enabled by the operator").doesNotExist();
    assertThat(Files.readString(root.resolve("var/lib/dpkg/status"))).contains("Package: sluice\nStatus: install ok installed");

    // The installed command, through the /usr/bin symlink, on the installed policy file.
    Path sluice = root.resolve("usr/bin/sluice");
    assertThat(Command.of(sluice.toString(), "--version").ok().output()).startsWith("sluice " + Dist.version() + " (commit ");
    assertThat(Command.of(sluice.toString(), "check", "-c", root.resolve("etc/sluice/sluice.yaml").toString()).ok().output())
        .contains("valid");
  }

  @Test
  void reinstall_isIdempotent_andKeepsTheOperatorsPolicyFile() throws Exception {
    install();
    Path policy = root.resolve("etc/sluice/sluice.yaml");
    String edited = Files.readString(policy).replace("100/minute", "250/minute");
    Files.writeString(policy, edited);

    Command.Result again = install();

    assertThat(usersNamedSluice()).as(again.describe()).isEqualTo(1);
    assertThat(Files.readString(policy, StandardCharsets.UTF_8)).as("a conffile the operator edited").isEqualTo(edited);
  }

  @Test
  void purge_removesTheUserTheConfigurationAndTheUnitState() throws Exception {
    install();
    Files.createDirectories(root.resolve("var/lib/sluice"));
    Files.createDirectories(root.resolve("var/log/sluice"));
    Files.writeString(root.resolve("var/log/sluice/audit.jsonl"), "{}\n");
    Files.createDirectories(root.resolve("var/cache/sluice"));
    Files.writeString(root.resolve("var/cache/sluice/sluice-serve-1.jsa"), "archive");

    Command.Result removed = dpkg("--remove", "sluice");
    assertThat(usersNamedSluice()).as("remove keeps the user; purge removes it").isEqualTo(1);
    assertThat(root.resolve("etc/sluice/sluice.yaml")).as(removed.describe()).exists();

    Command.Result purged = dpkg("--purge", "sluice");

    assertThat(usersNamedSluice()).as(purged.describe()).isZero();
    assertThat(Files.readString(root.resolve("etc/group"))).doesNotContain("sluice:");
    assertThat(root.resolve("etc/sluice/sluice.yaml")).doesNotExist();
    assertThat(root.resolve("var/log/sluice")).doesNotExist();
    assertThat(root.resolve("var/lib/sluice")).doesNotExist();
    assertThat(root.resolve("var/cache/sluice")).as("the class-data sharing archive").doesNotExist();
    assertThat(root.resolve("usr/share/sluice")).doesNotExist();
    assertThat(root.resolve("etc/systemd/system/multi-user.target.wants/sluice.service")).doesNotExist();
  }

  @Test
  void units_passSystemdAnalyzeVerify_inTheInstalledRoot() throws Exception {
    install();
    // verify resolves ExecStart=/usr/bin/sluice and ExecReload=/bin/kill and the targets the units
    // name below --root: give the root the host's kill and its target units.
    Files.createDirectories(root.resolve("bin"));
    Files.copy(Path.of("/bin/kill"), root.resolve("bin/kill"));
    for (String target : List.of("sysinit.target", "basic.target", "shutdown.target", "network.target",
        "network-online.target", "multi-user.target", "sockets.target", "paths.target", "timers.target",
        "slices.target", "local-fs.target", "swap.target")) {
      Path host = Path.of("/lib/systemd/system", target);
      if (Files.exists(host)) {
        Files.copy(host, root.resolve("lib/systemd/system").resolve(target));
      }
    }

    for (String unit : List.of("sluice.service", "sluice-decision.service")) {
      Command.Result verify = Command.of(SYSTEMD_ANALYZE, "verify", "--man=no", "--root=" + root,
          "/lib/systemd/system/" + unit).run();
      // verify exits 0 even for unknown keys or bad values: those are warnings, so none is allowed.
      assertThat(verify.exitCode()).as(verify.describe()).isZero();
      assertThat(verify.output()).as(verify.describe()).isEmpty();

      // Exposure 0 (locked down) … 10 (unprotected); the threshold is in tenths.
      Command.Result security = Command.of(SYSTEMD_ANALYZE, "security", "--offline=yes", "--root=" + root,
          "--threshold=20", "/lib/systemd/system/" + unit).run();
      assertThat(security.exitCode()).as(security.describe()).isZero();
      assertThat(security.output()).containsPattern("Overall exposure level for " + unit + ": 1\\.\\d OK");
    }
  }

  @Test
  void units_areHardenedAsDocumented() throws Exception {
    for (String unit : List.of("sluice.service", "sluice-decision.service")) {
      String text = Files.readString(Dist.repo().resolve("packaging/systemd").resolve(unit));
      assertThat(text).as(unit).contains("Type=exec\n", "User=sluice\n", "ExecReload=/bin/kill -HUP $MAINPID\n",
          "Restart=on-failure\n", "RestartPreventExitStatus=2\n", "SuccessExitStatus=143\n", "NoNewPrivileges=yes\n", "ProtectSystem=strict\n",
          "ProtectHome=yes\n", "PrivateTmp=yes\n", "CapabilityBoundingSet=\n", "AmbientCapabilities=\n",
          "ReadWritePaths=/var/log/sluice\n", "LimitNOFILE=65536\n", "StandardOutput=journal\n",
          "Environment=\"SLUICE_JAVA_OPTS=");
    }
    assertThat(Files.readString(Dist.repo().resolve("packaging/systemd/sluice-decision.service")))
        .contains("ExecStart=/usr/bin/sluice serve -c /etc/sluice/decision.yaml\n",
            "ConditionPathExists=/etc/sluice/decision.yaml\n");
  }
}
