package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code access_log:} (SPEC §10): a top-level path like {@code audit_log}, default off. */
class AccessLogConfigTest {
  @TempDir Path dir;

  private Path write(String yaml) throws Exception {
    Path file = dir.resolve("etc/sluice.yaml");
    Files.createDirectories(file.getParent());
    Files.writeString(file, "version: 1\ngateway: { upstream: http://h:1 }\n" + yaml);
    return file;
  }

  @Test
  void omitted_isOff() throws Exception {
    assertThat(ConfigLoader.load(write(""), name -> null).accessLog()).isEmpty();
  }

  @Test
  void relativePath_isBesideThePolicyFile_dashAndAbsoluteAreKept() throws Exception {
    assertThat(ConfigLoader.load(write("access_log: logs/../access.jsonl\n"), name -> null).accessLog())
        .contains(dir.resolve("etc/access.jsonl").toString());
    assertThat(ConfigLoader.load(write("access_log: '-'\n"), name -> null).accessLog()).contains("-");
    assertThat(ConfigLoader.load(write("access_log: /var/log/sluice/access.jsonl\n"), name -> null).accessLog())
        .contains("/var/log/sluice/access.jsonl");
  }

  @Test
  void blankOrNotAString_isAnErrorWithLineAndColumn() throws Exception {
    Path blank = write("access_log: ''\n");
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(blank, name -> null));
    assertThat(e.errors()).hasSize(1);
    assertThat(e.errors().get(0).toString()).startsWith(blank + ":3:13: access_log");

    Path list = write("access_log: [a, b]\n");
    e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(list, name -> null));
    assertThat(e.errors()).hasSize(1);
    assertThat(e.errors().get(0).toString()).startsWith(list + ":3:13: access_log");
  }

  @Test
  void misspelt_isAnUnknownKeyError() throws Exception {
    Path file = write("acess_log: a.jsonl\n");
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file, name -> null));
    assertThat(e.errors().get(0).toString()).startsWith(file + ":3:1:").contains("acess_log");
  }
}
