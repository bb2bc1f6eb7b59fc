package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sluice check --json}: the whole document, exactly, for a valid and an invalid file. */
class CheckJsonTest {
  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void checkJson_validFile_printsTheDocumentAndExitsZero() throws Exception {
    Path file = dir.resolve("sluice.yaml");
    Files.writeString(file, """
        version: 1
        gateway: { listen: 127.0.0.1:8080, upstream: http://127.0.0.1:5000, admin: 127.0.0.1:9090, max_inflight: 50 }
        clients: { api_key: { header: X-API-Key } }
        audit_log: audit.jsonl
        exempt: { ips: [10.0.0.0/8], api_keys: [batch-key] }
        policies:
          - name: search
            match: { paths: ["/api/search"] }
            by: [api_key, ip]
            limits: ["10/second burst 20", "1000/hour"]
          - name: login
            match: { methods: [POST], paths: ["/auth/login"] }
            count: { status: [401, "5xx"] }
            limits: ["5/15 minutes"]
            penalty: { ban: 15m, escalate: 2x, max: 24h }
            priority: critical
            on_error: deny
        """);

    int code = run("check", "--json", "-c", file.toString());

    assertThat(err.toString()).isEmpty();
    assertThat(code).isZero();
    assertThat(out.toString()).isEqualTo("""
        {
          "format": 1,
          "file": "%s",
          "valid": true,
          "errors": [],
          "warnings": [
            {
              "message": "policy \\"search\\" identifies clients by api_key without a keys_file and no ip limit covers /api/search: any invented value gets fresh buckets; add clients.api_key.keys_file or an ip limit on the same route"
            }
          ],
          "gateway": {
            "listen": "127.0.0.1:8080",
            "upstream": "http://127.0.0.1:5000",
            "admin": "127.0.0.1:9090",
            "upstream_timeout_ms": 30000,
            "max_inflight": 50,
            "admin_token_required": false
          },
          "store": {
            "type": "memory",
            "on_error": "allow",
            "timeout_ms": 50
          },
          "headers": "ietf",
          "audit_log": "%s",
          "policies": [
            {
              "name": "search",
              "methods": [],
              "paths": [
                "/api/search"
              ],
              "by": [
                "api_key",
                "ip"
              ],
              "limits": [
                {
                  "text": "10/second burst 20",
                  "item": "search/1",
                  "quantity": 10,
                  "period_seconds": 1,
                  "burst": 20
                },
                {
                  "text": "1000/hour",
                  "item": "search/2",
                  "quantity": 1000,
                  "period_seconds": 3600,
                  "burst": 1000
                }
              ],
              "algorithm": "gcra",
              "cost": 1,
              "mode": "enforce",
              "on_error": "allow",
              "on_error_from_store": true,
              "count_statuses": [],
              "penalty": null,
              "concurrency": null,
              "priority": "normal"
            },
            {
              "name": "login",
              "methods": [
                "POST"
              ],
              "paths": [
                "/auth/login"
              ],
              "by": [
                "ip"
              ],
              "limits": [
                {
                  "text": "5/15 minutes",
                  "item": "login",
                  "quantity": 5,
                  "period_seconds": 900,
                  "burst": 5
                }
              ],
              "algorithm": "gcra",
              "cost": 1,
              "mode": "enforce",
              "on_error": "deny",
              "on_error_from_store": false,
              "count_statuses": [
                "401",
                "5xx"
              ],
              "penalty": {
                "ban_seconds": 900,
                "escalate": 2,
                "max_seconds": 86400,
                "scope": "policy"
              },
              "concurrency": null,
              "priority": "critical"
            }
          ],
          "defaults": null,
          "exempt": {
            "ips": [
              "10.0.0.0/8"
            ],
            "api_keys": 1
          },
          "block": {
            "ips": [],
            "api_keys": 0
          }
        }
        """.formatted(file, dir.resolve("audit.jsonl")));
  }

  @Test
  void checkJson_invalidFile_printsPositionedErrorsOnStdoutAndExitsTwo() throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, """
        version: 1
        gateway: { upstream: http://127.0.0.1:5000 }
        policies:
          - name: login
            match: { paths: ["/auth/login"] }
            limits: ["5/fortnight"]
        """);

    int code = run("check", "--json", "-c", file.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).isEmpty();
    String message = "policies[0].limits[0]: invalid limit \\\"5/fortnight\\\": unknown unit \\\"fortnight\\\","
        + " expected second, minute, hour or day (or s, m, h, d)";
    assertThat(out.toString()).isEqualTo("""
        {
          "format": 1,
          "file": "%1$s",
          "valid": false,
          "errors": [
            {
              "file": "%1$s",
              "line": 6,
              "column": 17,
              "message": "%2$s",
              "text": "%1$s:6:17: %2$s"
            }
          ],
          "warnings": []
        }
        """.formatted(file, message));
  }

  @Test
  void checkJson_unreadableFile_hasNullPosition() {
    Path missing = dir.resolve("missing.yaml");

    int code = run("check", "--json", "-c", missing.toString());

    assertThat(code).isEqualTo(2);
    assertThat(out.toString()).contains("""
              "line": null,
              "column": null,
              "message": "cannot read the policy file: no such file",
        """);
  }

  @Test
  void checkJson_severalUpstreams_listsThemAllInFileOrder() throws Exception {
    Path file = dir.resolve("sluice.yaml");
    Files.writeString(file, """
        version: 1
        gateway: { upstream: [http://127.0.0.1:5001, https://127.0.0.1:5002] }
        policies:
          - name: all
            match: { paths: ["/"] }
            limits: ["10/second"]
        """);

    int code = run("check", "--json", "-c", file.toString());

    assertThat(err.toString()).isEmpty();
    assertThat(code).isZero();
    assertThat(out.toString()).contains("""
            "upstream": [
              "http://127.0.0.1:5001",
              "https://127.0.0.1:5002"
            ],
        """);
  }
}
