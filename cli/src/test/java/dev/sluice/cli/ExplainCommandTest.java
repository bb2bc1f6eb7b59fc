package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sluice explain}: the exact explanation for matching, fallback, defaults, exempt and block. */
class ExplainCommandTest {
  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();
  private Path file;

  @BeforeEach
  void policyFile() throws Exception {
    file = dir.resolve("sluice.yaml");
    Files.writeString(file, """
        version: 1
        gateway: { upstream: http://127.0.0.1:5000 }
        clients:
          trusted_proxies: [10.0.0.0/8]
          api_key: { header: X-API-Key }
        exempt: { ips: [192.0.2.99] }
        block: { api_keys: [leaked-key] }
        defaults: { by: ip, limits: ["100/minute"] }
        policies:
          - name: login
            match: { methods: [POST], paths: ["/auth/login"] }
            by: [ip+body:username, ip]
            count: { status: [401] }
            limits: ["5/15 minutes"]
          - name: search
            match: { paths: ["/api/search/**"] }
            by: [api_key, ip]
            limits: ["10/second burst 20", "1000/hour"]
          - name: api-per-ip
            match: { paths: ["/api/**"] }
            limits: ["300/minute"]
        """);
  }

  private int run(String... args) {
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    String[] all = new String[args.length + 3];
    all[0] = "explain";
    all[1] = "-c";
    all[2] = file.toString();
    System.arraycopy(args, 0, all, 3, args.length);
    return cli.execute(all);
  }

  @Test
  void explain_apiKeyRequest_showsEveryMatchingPolicyWithItsHashedIdentity() {
    int code = run("GET", "/api/search/../search/books?q=x", "-H", "X-API-Key: demo-key");

    assertThat(err.toString()).isEmpty();
    assertThat(code).isZero();
    assertThat(out.toString()).isEqualTo("""
        request: GET /api/search/books (query not matched: ?q=x)
        client: 192.0.2.1 (peer 192.0.2.1 is not a trusted proxy: it is the client; forwarding headers ignored)
        X-Forwarded-For upstream: 192.0.2.1

        login: does not match (POST /auth/login)
        search: matches (enforce)
          identity: api_key c48a01f49fd0f2cc (first of api_key > ip)
          limits: 10/second burst 20 (burst 20, gcra, item "search/1"), 1000/hour (burst 1000, gcra, item "search/2"); cost 1
        api-per-ip: matches (enforce)
          identity: ip 192.0.2.1
          limits: 300/minute (burst 300, gcra, item "api-per-ip"); cost 1
        defaults: do not apply (a policy matches)

        identity values of api_key, session, header: and body: are hashed as in the audit log
        """);
  }

  @Test
  void explain_behindTrustedProxy_walksTheHeaderAndFallsBackAlongTheChain() {
    int code = run("POST", "/auth/login", "--peer", "10.1.2.3",
        "-H", "X-Forwarded-For: 6.6.6.6, 203.0.113.7", "-H", "Content-Type: application/json",
        "-d", "{\"password\": \"guess\"}");

    assertThat(code).isZero();
    assertThat(out.toString()).isEqualTo("""
        request: POST /auth/login
        client: 203.0.113.7 (peer 10.1.2.3 is a trusted proxy: read from the forwarding header)
        X-Forwarded-For upstream: 203.0.113.7, 10.1.2.3

        login: matches (enforce)
          identity: ip 203.0.113.7 (ip+body:username absent or unknown; by ip+body:username > ip)
          limits: 5/15 minutes (burst 5, gcra, item "login"); cost 1
          also: counts only upstream statuses 401
        search: does not match (any method /api/search/**)
        api-per-ip: does not match (any method /api/**)
        defaults: do not apply (a policy matches)

        identity values of api_key, session, header: and body: are hashed as in the audit log
        """);
  }

  @Test
  void explain_noPolicyMatches_showsTheDefaults() {
    int code = run("GET", "/healthz", "--peer", "2001:db8::7");

    assertThat(code).isZero();
    assertThat(out.toString()).isEqualTo("""
        request: GET /healthz
        client: 2001:db8::7 (peer 2001:db8::7 is not a trusted proxy: it is the client; forwarding headers ignored)
        X-Forwarded-For upstream: 2001:db8::7

        login: does not match (POST /auth/login)
        search: does not match (any method /api/search/**)
        api-per-ip: does not match (any method /api/**)
        defaults: apply (no policy matches)
          identity: ip 2001:db8::/64
          limits: 100/minute (burst 100, gcra, item "default"); cost 1

        identity values of api_key, session, header: and body: are hashed as in the audit log
        """);
  }

  @Test
  void explain_exemptAndBlocked_sayWhyAndStop() {
    assertThat(run("GET", "/api/items", "--peer", "192.0.2.99")).isZero();
    assertThat(out.toString()).endsWith("""
        X-Forwarded-For upstream: 192.0.2.99

        exempt: never limited (exempt.ips contains 192.0.2.99); no policy or defaults apply, counted as exempt
        """);

    out.getBuffer().setLength(0);
    assertThat(run("GET", "/api/items", "-H", "X-API-Key: leaked-key")).isZero();
    assertThat(out.toString()).endsWith("""
        X-Forwarded-For upstream: 192.0.2.1

        blocked: refused with 403 by block: (block.api_keys lists the request's API key), before exemptions and policies
        """);
  }

  @Test
  void explain_badArguments_exitTwoWithTheReason() {
    assertThat(run("GET", "/a/../../etc", "--peer", "1.2.3.4")).isEqualTo(2);
    assertThat(err.toString()).startsWith("sluice explain: PATH: ");

    err.getBuffer().setLength(0);
    assertThat(run("GET", "/", "--peer", "10.0.0.0/8")).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("sluice explain: --peer: \"10.0.0.0/8\" is a network; expected one address\n");

    err.getBuffer().setLength(0);
    assertThat(run("GET", "/", "-H", "no colon")).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("sluice explain: -H: \"no colon\" is not a header; expected 'Name: value'\n");
  }
}
