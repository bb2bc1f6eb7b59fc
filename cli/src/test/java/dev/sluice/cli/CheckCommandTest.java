package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sluice check} run in-process through picocli with captured output streams. */
class CheckCommandTest {
  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  private Path write(String name, String text) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, text);
    return file;
  }

  @Test
  void check_validFile_printsMatrixAndExitsZero() throws Exception {
    Path file = write("sluice.yaml", """
        version: 1
        gateway: { upstream: http://127.0.0.1:5000 }
        policies:
          - name: login
            match: { methods: [POST], paths: ["/auth/login"] }
            limits: ["5/minute", "20/hour"]
        """);

    int code = run("check", "-c", file.toString());

    assertThat(code).isZero();
    assertThat(err.toString()).as("only the warning about the admin API without a token")
        .startsWith("sluice check: WARNING: the admin API on 127.0.0.1:9090 has no token").hasLineCount(1);
    assertThat(out.toString())
        .startsWith(file + ": valid; 1 policy, no defaults;")
        .contains("POLICY  ROUTE        METHODS  IDENTITY  LIMITS              ALGORITHM  COST  MODE     ON_ERROR\n")
        .contains("login   /auth/login  POST     ip        5/minute (burst 5)  gcra       1     enforce  allow (store)\n")
        .contains("                                        20/hour (burst 20)\n");
  }

  @Test
  void check_rolloutAndShadow_showTheShareAndThatDefaultsStillApply() throws Exception {
    Path file = write("sluice.yaml", """
        version: 1
        gateway: { upstream: http://127.0.0.1:5000 }
        defaults: { limits: ["100/minute"] }
        policies:
          - name: search
            match: { paths: ["/api/**"] }
            limits: ["5/minute"]
            rollout: 10%
          - name: fresh
            match: { paths: ["/new"] }
            limits: ["5/minute"]
            mode: shadow
        """);

    assertThat(run("check", "-c", file.toString())).isZero();

    assertThat(out.toString())
        .contains("enforce 10% / shadow 90%")
        .contains("search: shadow for the 90% of identities outside its rollout (decided and counted, never"
            + " refused); requests no enforced policy covers stay under the defaults\n")
        .contains("fresh: shadow for every identity")
        .contains("default  (no enforced policy)");
  }

  @Test
  void check_unsetVariable_isAWarningAndPrintEffectiveShowsTheSubstitutedFileMasked() throws Exception {
    Path file = write("sluice.yaml", """
        version: 1
        gateway: { upstream: "http://127.0.0.1:${SLUICE_TEST_UNSET_PORT:-5000}" }
        exempt: { ips: ["${SLUICE_TEST_UNSET_CIDR}"] }
        policies:
          - name: login
            match: { paths: ["/login"] }
            limits: ["5/minute"]
        """);

    int code = run("check", "--print-effective", "-c", file.toString());

    assertThat(code).as(err.toString()).isEqualTo(2);
    assertThat(err.toString()).as("under check the reference stays as written; its value is then invalid")
        .contains(file + ":3:17: exempt.ips[0]");

    Files.writeString(file, Files.readString(file).replace("exempt: { ips: [\"${SLUICE_TEST_UNSET_CIDR}\"] }\n", "")
        .replace("/login", "/${SLUICE_TEST_UNSET_SEGMENT}"));
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    assertThat(run("check", "--print-effective", "-c", file.toString())).as(err.toString()).isZero();
    assertThat(out.toString()).contains("gateway: { upstream: \"http://127.0.0.1:5000\" }");
    assertThat(err.toString()).contains("warning: environment variable SLUICE_TEST_UNSET_SEGMENT");
  }

  @Test
  void check_invalidFile_printsEveryPositionedErrorToStderrAndExitsTwo() throws Exception {
    Path file = write("bad.yaml", """
        version: 1
        gateway:
          upstream: http://127.0.0.1:5000
          listn: 127.0.0.1:8080
        policies:
          - name: login
            match: { paths: ["/auth/login"] }
            limits: ["5/fortnight"]
        """);

    int code = run("check", "--config", file.toString());

    assertThat(code).isEqualTo(2);
    assertThat(out.toString()).isEmpty();
    assertThat(err.toString()).isEqualTo(
        file + ":4:3: unknown field \"listn\" in gateway; did you mean \"listen\"? (valid fields: listen,"
            + " upstream, admin, upstream_timeout, max_inflight, admin_token_env, encoded_slashes, header_timeout,"
            + " body_timeout, max_connections, max_connections_per_ip, proxy_protocol, admin_insecure, admin_hosts, drain_grace,"
            + " shutdown_timeout, tls, upstream_tls)\n"
            + file + ":8:17: policies[0].limits[0]: invalid limit \"5/fortnight\": unknown unit"
            + " \"fortnight\", expected second, minute, hour or day (or s, m, h, d)\n");
  }

  @Test
  void check_missingFile_saysSoAndExitsTwo() {
    Path file = dir.resolve("nope.yaml");

    int code = run("check", "-c", file.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).isEqualTo(file + ": cannot read the policy file: no such file\n");
  }

  @Test
  void check_withoutConfigOption_isAUsageErrorExitingTwo() {
    int code = run("check");

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("Missing required option: '--config=FILE'");
  }

  @Test
  void help_listsTheThreeSubcommands() {
    int code = run("--help");

    assertThat(code).isZero();
    assertThat(out.toString()).contains("Usage: sluice").contains("serve").contains("check").contains("demo");
  }

  @Test
  void checkHelp_describesExitStatus() {
    int code = run("check", "--help");

    assertThat(code).isZero();
    assertThat(out.toString()).contains("-c, --config=FILE").contains("Exit status: 0 valid, 2 invalid");
  }

  @Test
  void version_printsSluiceVersion() {
    int code = run("--version");

    assertThat(code).isZero();
    assertThat(out.toString()).startsWith("sluice ");
  }

  @Test
  void noSubcommand_isAUsageErrorExitingTwo() {
    int code = run();

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("Missing required subcommand");
  }
}
