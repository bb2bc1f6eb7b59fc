package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The failure paths of {@code sluice serve} (the running path is covered by the gateway tests). */
class ServeCommandTest {
  @TempDir Path dir;

  private int run(StringWriter err, String... args) {
    CommandLine cli = Main.commandLine();
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(new StringWriter(), true));
    return cli.execute(args);
  }

  @Test
  void serve_invalidPolicyFile_printsPositionedErrorsAndExits2() throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, "version: 1\ngateway:\n  upstream: http://127.0.0.1:5000\n  bogus: 1\n");
    StringWriter err = new StringWriter();

    int status = run(err, "serve", "-c", file.toString());

    assertThat(status).isEqualTo(2);
    assertThat(err.toString()).startsWith(file + ":4:3: ");
  }

  @Test
  void serve_invalidPolicyFile_reportsExactlyWhatCheckReports() throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, "version: 1\ngateway:\n  upstream: ftp://127.0.0.1:5000\n  bogus: 1\n");
    StringWriter serveErr = new StringWriter();
    StringWriter checkErr = new StringWriter();

    int serve = run(serveErr, "serve", "-c", file.toString());
    int check = run(checkErr, "check", "-c", file.toString());

    assertThat(serve).isEqualTo(check).isEqualTo(2);
    assertThat(serveErr.toString()).isEqualTo(checkErr.toString()).hasLineCount(2);
  }

  @Test
  void serve_redisStoreUnreachable_exits1NamingTheStoreWithoutPassword() throws Exception {
    int closedPort = dev.sluice.testkit.FreePort.find();
    Path file = dir.resolve("redis.yaml");
    Files.writeString(
        file,
        "version: 1\ngateway:\n  upstream: http://127.0.0.1:5000\nstore:\n  type: redis\n"
            + "  url: redis://sluice:s3cret@127.0.0.1:" + closedPort + "\n");
    StringWriter err = new StringWriter();

    int status = run(err, "serve", "-c", file.toString());

    assertThat(status).isEqualTo(1);
    assertThat(err.toString()).contains("cannot reach the store").doesNotContain("s3cret");
  }

  @Test
  void serve_listenAddressTaken_exits1WithTheAddress() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Path file = dir.resolve("taken.yaml");
      Files.writeString(
          file,
          "version: 1\ngateway:\n  listen: 127.0.0.1:" + taken.getLocalPort()
              + "\n  upstream: http://127.0.0.1:5000\n  admin: 127.0.0.1:0\n");
      StringWriter err = new StringWriter();

      int status = run(err, "serve", "-c", file.toString());

      assertThat(status).isEqualTo(1);
      assertThat(err.toString()).contains("cannot listen on 127.0.0.1:" + taken.getLocalPort());
    }
  }
}
