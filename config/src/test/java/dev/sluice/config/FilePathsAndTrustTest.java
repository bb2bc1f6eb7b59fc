package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Paths written in the policy file are relative to its folder (issue 10), and the warning for a
 * trusted proxy range that contains the gateway's own listen address.
 */
class FilePathsAndTrustTest {
  @TempDir Path dir;

  private SluiceConfig load(String relativeFile, String yaml) throws Exception {
    Path file = dir.resolve(relativeFile);
    Files.createDirectories(file.getParent());
    Files.writeString(file, yaml);
    return ConfigLoader.load(file, name -> null);
  }

  @Test
  void auditLog_relativePath_isResolvedAgainstThePolicyFilesFolder() throws Exception {
    SluiceConfig c = load("etc/sluice/sluice.yaml",
        "version: 1\ngateway: { upstream: http://h:1 }\naudit_log: logs/../audit.jsonl\n");

    assertThat(c.auditLog()).contains(dir.resolve("etc/sluice/audit.jsonl").toString());
  }

  @Test
  void auditLog_absolutePathAndDash_areKept() throws Exception {
    assertThat(load("a/s.yaml", "version: 1\ngateway: { upstream: http://h:1 }\naudit_log: /var/log/sluice/audit.jsonl\n")
        .auditLog()).contains("/var/log/sluice/audit.jsonl");
    assertThat(load("b/s.yaml", "version: 1\ngateway: { upstream: http://h:1 }\naudit_log: '-'\n")
        .auditLog()).contains("-");
  }

  @Test
  void trustedProxies_containingTheListenAddress_warns() throws Exception {
    SluiceConfig c = load("s.yaml", """
        version: 1
        gateway: { listen: 127.0.0.1:8080, upstream: http://h:1 }
        clients: { trusted_proxies: [127.0.0.0/8] }
        """);

    assertThat(c.warnings()).containsExactly("clients.trusted_proxies contains 127.0.0.1, an address the gateway"
        + " listens on (gateway.listen 127.0.0.1:8080): any process on this host can connect from it and claim any"
        + " client address in the forwarding header; run nothing else on this host that could, or set"
        + " trusted_proxies: [] when clients connect directly");
    assertThat(PolicyMatrix.render(c)).contains("\nwarning: clients.trusted_proxies contains 127.0.0.1, ");
  }

  @Test
  void trustedProxies_wildcardListen_warnsWhenLoopbackIsTrusted() throws Exception {
    SluiceConfig c = load("s.yaml", """
        version: 1
        gateway: { listen: "[::]:8080", upstream: http://h:1 }
        clients: { trusted_proxies: ["::1"] }
        """);

    assertThat(c.warnings()).singleElement().asString()
        .startsWith("clients.trusted_proxies contains 0:0:0:0:0:0:0:1, an address the gateway listens on"
            + " (gateway.listen [0:0:0:0:0:0:0:0]:8080)");
  }

  @Test
  void trustedProxies_elsewhere_orHeaderNone_doNotWarn() throws Exception {
    assertThat(load("a/s.yaml", """
        version: 1
        gateway: { listen: 127.0.0.1:8080, upstream: http://h:1 }
        clients: { trusted_proxies: [10.0.0.0/8] }
        """).warnings()).isEmpty();
    // With ip_header: none no header is believed, so a trusted peer can claim nothing.
    assertThat(load("b/s.yaml", """
        version: 1
        gateway: { listen: 127.0.0.1:8080, upstream: http://h:1 }
        clients: { trusted_proxies: [127.0.0.1], ip_header: none }
        """).warnings()).isEmpty();
  }
}
