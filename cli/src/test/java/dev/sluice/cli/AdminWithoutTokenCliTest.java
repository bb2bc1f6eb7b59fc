package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code check} and {@code serve} about an admin API without a token (issue 9, point 4): a loud
 * warning on loopback, a positioned refusal (exit 2) beyond loopback unless
 * {@code gateway.admin_insecure: true} is written, and then a louder warning.
 */
@Timeout(60)
class AdminWithoutTokenCliTest {
  private static final String WARNING_LOOPBACK =
      "WARNING: the admin API on 127.0.0.1:0 has no token (gateway.admin_token_env is not set)";

  @TempDir Path dir;

  private record Run(int status, String out, String err) {}

  private Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int status = cli.execute(args);
    return new Run(status, out.toString(), err.toString());
  }

  private Path file(String adminLines) throws Exception {
    Path file = dir.resolve("sluice.yaml");
    Files.writeString(file, "version: 1\ngateway:\n  listen: 127.0.0.1:0\n  upstream: http://127.0.0.1:5000\n"
        + adminLines);
    return file;
  }

  @Test
  void check_loopbackAdminWithoutToken_exitsZeroWithALoudWarningOnStderr() throws Exception {
    Run run = run("check", "-c", file("  admin: 127.0.0.1:0\n").toString());

    assertThat(run.status()).isZero();
    assertThat(run.err()).startsWith("sluice check: " + WARNING_LOOPBACK)
        .contains("any process on this host can create and lift bans");
  }

  @Test
  void checkAndServe_adminOnAllInterfacesWithoutToken_refuseWithThePositionedErrorAndExit2() throws Exception {
    Path file = file("  admin: 0.0.0.0:0\n");

    Run check = run("check", "-c", file.toString());
    Run serve = run("serve", "-c", file.toString());

    for (Run run : List.of(check, serve)) {
      assertThat(run.status()).isEqualTo(2);
      assertThat(run.err()).isEqualTo(file + ":5:10: gateway.admin: the admin API would listen on 0.0.0.0:0,"
          + " beyond loopback, without a token: anyone who can reach that address could create and lift bans;"
          + " expected gateway.admin_token_env (a bearer token), gateway.admin on a loopback address such as"
          + " 127.0.0.1:9090, or gateway.admin_insecure: true to accept the risk" + System.lineSeparator());
    }
  }

  @Test
  void check_adminOnAllInterfacesWithInsecureWritten_exitsZeroWithTheInsecureWarning() throws Exception {
    Run run = run("check", "-c", file("  admin: 0.0.0.0:0\n  admin_insecure: true\n").toString());

    assertThat(run.status()).isZero();
    assertThat(run.err()).startsWith("sluice check: WARNING: gateway.admin_insecure is true: the admin API on"
        + " 0.0.0.0:0 listens beyond loopback WITHOUT A TOKEN");
  }

  /** {@code serve} runs until stopped, so it runs as a process: the warning precedes "listening". */
  @Test
  void serve_loopbackAdminWithoutToken_warnsOnStderrBeforeItListens() throws Exception {
    Path file = file("  admin: 127.0.0.1:0\n");
    List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m", "-cp", System.getProperty("java.class.path"), "dev.sluice.cli.Main", "serve", "-c",
        file.toString());
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    List<String> lines = new ArrayList<>();
    try (BufferedReader output = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = output.readLine()) != null) {
        lines.add(line);
        if (line.contains("sluice listening on")) {
          break;
        }
      }
    } finally {
      process.destroy();
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
    assertThat(lines).as("serve's output").anyMatch(l -> l.contains("sluice listening on"));
    assertThat(lines.get(0)).startsWith("sluice serve: " + WARNING_LOOPBACK);
  }
}
