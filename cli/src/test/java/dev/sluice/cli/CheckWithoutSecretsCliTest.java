package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code check} validates a policy file without the production secrets and certificates it names
 * (issue 16, point 6): an unset {@code *_env} variable or an absent TLS file is a warning there,
 * and still a positioned error (exit 2) for {@code serve}.
 */
@Timeout(60)
class CheckWithoutSecretsCliTest {
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

  private Path file(String text) throws Exception {
    Path file = dir.resolve("sluice.yaml");
    Files.writeString(file, text);
    return file;
  }

  @Test
  void unsetSecretVariables_areWarningsForCheck_andErrorsForServe() throws Exception {
    Path file = file("""
        version: 1
        gateway:
          listen: 127.0.0.1:0
          admin: 127.0.0.1:0
          upstream: http://127.0.0.1:5000
          admin_token_env: SLUICE_TEST_NEVER_SET_ADMIN_TOKEN
        clients:
          user: { jwt: { header: Authorization, claim: sub, hs256_secret_env: SLUICE_TEST_NEVER_SET_JWT } }
        defaults: { by: [user, ip], limits: ["10/second"] }
        """);

    Run check = run("check", "-c", file.toString());
    Run serve = run("serve", "-c", file.toString());

    assertThat(check.status()).as(check.err()).isZero();
    assertThat(check.out())
        .contains("warning: gateway.admin_token_env: environment variable SLUICE_TEST_NEVER_SET_ADMIN_TOKEN is not"
            + " set; expected it to hold the admin API bearer token; serve fails without it")
        .contains("warning: clients.user.jwt.hs256_secret_env: environment variable SLUICE_TEST_NEVER_SET_JWT is"
            + " not set; expected it to hold the HS256 secret; serve fails without it");
    // A configured (if unset) token: no "admin API without a token" warning either.
    assertThat(check.err()).doesNotContain("has no token");

    assertThat(serve.status()).isEqualTo(2);
    assertThat(serve.err())
        .contains(file + ":6:20: gateway.admin_token_env: environment variable SLUICE_TEST_NEVER_SET_ADMIN_TOKEN"
            + " is not set")
        .contains("clients.user.jwt.hs256_secret_env: environment variable SLUICE_TEST_NEVER_SET_JWT is not set");
  }

  @Test
  void absentTlsFiles_areWarningsForCheck_andErrorsForServe() throws Exception {
    Path file = file("""
        version: 1
        gateway:
          listen: 127.0.0.1:0
          admin: 127.0.0.1:0
          upstream: https://127.0.0.1:5443
          tls: { cert_file: missing.crt, key_file: missing.key }
          upstream_tls: { ca_file: missing-ca.pem }
        defaults: { by: ip, limits: ["10/second"] }
        """);

    Run check = run("check", "-c", file.toString());
    Run serve = run("serve", "-c", file.toString());

    assertThat(check.status()).as(check.err()).isZero();
    assertThat(check.out())
        .contains("warning: gateway.tls.cert_file: cannot read \"missing.crt\": no such file (looked for "
            + dir.resolve("missing.crt") + "); serve reads it at start, so it must exist where sluice runs")
        .contains("warning: gateway.tls.key_file: cannot read \"missing.key\"")
        .contains("warning: gateway.upstream_tls.ca_file: cannot read \"missing-ca.pem\"");

    assertThat(serve.status()).isEqualTo(2);
    assertThat(serve.err())
        .contains(file + ":6:21: gateway.tls.cert_file: cannot read \"missing.crt\": no such file")
        .contains(":7:28: gateway.upstream_tls.ca_file: cannot read \"missing-ca.pem\"");
  }

  @Test
  void insecureSkipVerifyWithCaFile_isAContradiction() throws Exception {
    Files.writeString(dir.resolve("ca.pem"), "not checked here");
    Path file = file("""
        version: 1
        gateway:
          listen: 127.0.0.1:0
          admin: 127.0.0.1:0
          upstream: https://127.0.0.1:5443
          upstream_tls: { ca_file: ca.pem, insecure_skip_verify: true }
        defaults: { by: ip, limits: ["10/second"] }
        """);

    Run check = run("check", "-c", file.toString());

    assertThat(check.status()).isEqualTo(2);
    assertThat(check.err()).contains(file + ":6:58: gateway.upstream_tls: insecure_skip_verify: true contradicts"
        + " ca_file");
  }
}
