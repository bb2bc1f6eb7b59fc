package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Issue 9: {@code -c /dev/zero}, a FIFO, a directory — and any unforeseen failure — give one line, never a trace. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UnboundedInputsCliTest {
  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(CommandLine cli, String... args) {
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void check_devZero_isOneLineAndExitTwo() {
    long start = System.nanoTime();
    int code = run(Main.commandLine(), "check", "-c", "/dev/zero");

    assertThat(code).isEqualTo(CheckCommand.INVALID);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(err.toString()).isEqualTo("/dev/zero: cannot read the policy file: it is not a regular file"
        + " (a device, FIFO or socket); expected a regular file\n");
  }

  @Test
  void serve_fifo_returnsPromptlyWithOneLine() throws Exception {
    Path fifo = dir.resolve("sluice.fifo");
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();

    int code = run(Main.commandLine(), "serve", "-c", fifo.toString());

    assertThat(code).isEqualTo(ServeCommand.INVALID);
    assertThat(err.toString()).isEqualTo(fifo + ": cannot read the policy file: it is not a regular file"
        + " (a device, FIFO or socket); expected a regular file\n");
  }

  @Test
  void check_directory_isOneLine() {
    int code = run(Main.commandLine(), "check", "-c", dir.toString());

    assertThat(code).isEqualTo(CheckCommand.INVALID);
    assertThat(err.toString()).isEqualTo(dir + ": cannot read the policy file: it is a directory; expected a regular file\n");
  }

  @Test
  void check_hugeLimitString_isAPositionedErrorQuickly() throws Exception {
    Path file = dir.resolve("sluice.yaml");
    Files.writeString(file, "version: 1\ngateway: { upstream: http://127.0.0.1:5000 }\ndefaults: { limits: [\""
        + "9".repeat(200_000) + "/second\"] }\n");
    long start = System.nanoTime();

    int code = run(Main.commandLine(), "check", "-c", file.toString());

    assertThat(code).isEqualTo(CheckCommand.INVALID);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(err.toString()).isEqualTo(file + ":3:22: a value of 200007 characters; expected at most 4096"
        + " (limits, paths, names and file names are short)\n");
  }

  @CommandLine.Command(name = "boom")
  static final class Boom implements Callable<Integer> {
    @Override
    public Integer call() {
      throw new IllegalStateException("the unexpected", new java.io.IOException("root\ncause"));
    }
  }

  @Test
  void anyCommand_unexpectedException_isOneLineWithoutAStackTrace() {
    CommandLine cli = Main.commandLine();
    cli.addSubcommand("boom", new Boom());

    int code = run(cli, "boom");

    assertThat(code).isEqualTo(1);
    assertThat(err.toString()).isEqualTo(
        "sluice boom: internal error: IllegalStateException: the unexpected (cause: IOException: root cause)\n");
  }
}
