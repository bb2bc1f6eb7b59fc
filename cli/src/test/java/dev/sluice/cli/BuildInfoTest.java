package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class BuildInfoTest {

  @Test
  void of_filledProperties_keepsVersionAndCommit() {
    Properties p = new Properties();
    p.setProperty("version", "1.2.3");
    p.setProperty("commit", "3f2a9c0d1e-dirty");

    assertThat(BuildInfo.of(p)).isEqualTo(new BuildInfo("1.2.3", "3f2a9c0d1e-dirty"));
  }

  @Test
  void of_buildWithoutGit_commitIsUnknown() {
    // What the build leaves when git is missing or the sources are not a checkout.
    Properties empty = new Properties();
    empty.setProperty("version", "1.2.3");
    empty.setProperty("commit", "");
    Properties unexpanded = new Properties();
    unexpanded.setProperty("version", "1.2.3");
    unexpanded.setProperty("commit", "${sluice.git.commit}");

    assertThat(BuildInfo.of(empty).commit()).isEqualTo("unknown");
    assertThat(BuildInfo.of(unexpanded).commit()).isEqualTo("unknown");
    assertThat(BuildInfo.of(new Properties())).isEqualTo(new BuildInfo("unknown", "unknown"));
  }

  @Test
  void current_thisBuild_hasTheMavenVersionAndItsGitCommit() {
    BuildInfo info = BuildInfo.current();

    assertThat(info.version()).matches("\\d+\\.\\d+\\.\\d+.*");
    // From a checkout (.git is a folder, or a file in a linked worktree) the commit is embedded;
    // from a source tarball it is unknown.
    if (Files.exists(Path.of(System.getProperty("user.dir")).resolve("../.git"))) {
      assertThat(info.commit()).matches("[0-9a-f]{10}(-dirty)?");
    } else {
      assertThat(info.commit()).isEqualTo("unknown");
    }
  }

  @Test
  void versionOption_printsVersionCommitAndJava() {
    StringWriter out = new StringWriter();
    int code = Main.commandLine().setOut(new PrintWriter(out)).execute("--version");

    assertThat(code).isZero();
    BuildInfo info = BuildInfo.current();
    assertThat(out.toString())
        .startsWith("sluice " + info.version() + " (commit " + info.commit() + ")\n")
        .contains("Java " + System.getProperty("java.version"));
  }
}
