package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9: policy-file inputs are bounded. {@code -c}, {@code keys_file} and {@code jwks_file}
 * pointing at {@code /dev/zero}, a FIFO, a directory or a huge file give one positioned error
 * promptly (never an OutOfMemoryError or a hang), and every YAML value is length-bounded.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UnboundedInputsTest {
  private static final String HEAD = "version: 1\ngateway: { upstream: http://127.0.0.1:5000 }\n";

  @TempDir Path dir;

  private List<String> loadErrors(Path file) {
    long start = System.nanoTime();
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file, Map.<String, String>of()::get));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).as("answered promptly").isLessThan(Duration.ofSeconds(5));
    assertThat(e).as("expected %s to be rejected", file).isNotNull();
    return e.errors().stream().map(ConfigError::toString).toList();
  }

  private Path fifo(String name) throws IOException, InterruptedException {
    Path fifo = dir.resolve(name);
    Process p = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
    assertThat(p.waitFor()).isZero();
    return fifo;
  }

  private Path policy(String body) throws IOException {
    Path file = dir.resolve("sluice.yaml");
    Files.writeString(file, HEAD + body);
    return file;
  }

  @Test
  void policyFile_devZero_isRefusedAsNotARegularFile() {
    assertThat(loadErrors(Path.of("/dev/zero"))).containsExactly(
        "/dev/zero: cannot read the policy file: it is not a regular file (a device, FIFO or socket);"
            + " expected a regular file");
  }

  @Test
  void policyFile_fifo_isRefusedPromptlyInsteadOfHanging() throws Exception {
    Path fifo = fifo("policy.fifo");
    assertThat(loadErrors(fifo)).containsExactly(fifo + ": cannot read the policy file: it is not a regular"
        + " file (a device, FIFO or socket); expected a regular file");
  }

  @Test
  void policyFile_directory_isRefused() {
    assertThat(loadErrors(dir)).containsExactly(dir + ": cannot read the policy file: it is a directory;"
        + " expected a regular file");
  }

  @Test
  void policyFile_overOneMebibyte_isRefusedBeforeParsing() throws IOException {
    Path big = dir.resolve("big.yaml");
    Files.writeString(big, HEAD + "#".repeat(BoundedFiles.MAX_POLICY_BYTES));
    assertThat(loadErrors(big)).containsExactly(big + ": cannot read the policy file: it is larger than 1 MiB;"
        + " expected a file of at most 1 MiB");
  }

  @Test
  void keysFile_devZero_isAPositionedError() throws IOException {
    Path file = policy("clients:\n  api_key: { header: X-API-Key, keys_file: /dev/zero }\n");
    assertThat(loadErrors(file)).containsExactly(file + ":4:44: clients.api_key.keys_file: cannot read"
        + " \"/dev/zero\": it is not a regular file (a device, FIFO or socket); expected a regular file");
  }

  @Test
  void keysFile_fifo_isAPositionedErrorPromptly() throws Exception {
    fifo("keys.fifo");
    Path file = policy("clients:\n  session: { cookie: sid, keys_file: keys.fifo }\n");
    assertThat(loadErrors(file)).containsExactly(file + ":4:38: clients.session.keys_file: cannot read"
        + " \"keys.fifo\": it is not a regular file (a device, FIFO or socket); expected a regular file");
  }

  @Test
  void keysFile_directory_isAPositionedError() throws IOException {
    Files.createDirectory(dir.resolve("keys.d"));
    Path file = policy("clients:\n  api_key: { header: X-API-Key, keys_file: keys.d }\n");
    assertThat(loadErrors(file)).containsExactly(file + ":4:44: clients.api_key.keys_file: cannot read"
        + " \"keys.d\": it is a directory; expected a regular file");
  }

  @Test
  void keysFile_over16Mebibytes_isAPositionedError() throws IOException {
    Files.write(dir.resolve("keys.txt"), new byte[BoundedFiles.MAX_KEYS_BYTES + 1]);
    Path file = policy("clients:\n  api_key: { header: X-API-Key, keys_file: keys.txt }\n");
    assertThat(loadErrors(file)).containsExactly(file + ":4:44: clients.api_key.keys_file: cannot read"
        + " \"keys.txt\": it is larger than 16 MiB; expected a file of at most 16 MiB");
  }

  @Test
  void jwksFile_devZero_isAPositionedError() throws IOException {
    Path file = policy("clients:\n  user: { jwt: { jwks_file: /dev/zero } }\n");
    assertThat(loadErrors(file)).containsExactly(file + ":4:29: clients.user.jwt.jwks_file: cannot read"
        + " \"/dev/zero\": it is not a regular file (a device, FIFO or socket); expected a regular file");
  }

  @Test
  void scalar_longerThan4KiB_isRejectedAtTheValue() throws IOException {
    Path file = policy("defaults:\n  limits: [\"" + "1".repeat(5000) + "/second\"]\n");
    assertThat(loadErrors(file)).containsExactly(file + ":4:12: a value of 5007 characters; expected at most 4096"
        + " (limits, paths, names and file names are short)");
  }

  @Test
  void limit_longerThan100Characters_isRejectedAtItsEnd() throws IOException {
    String limit = "1" + "0".repeat(150) + "/second";
    Path file = policy("defaults:\n  limits: [\"" + limit + "\"]\n");
    assertThat(loadErrors(file)).containsExactly(file + ":4:113: defaults.limits[0]: invalid limit"
        + " \"10000000000000000000...\" (158 characters): the limit is 158 characters long, at most 100;"
        + " expected N/unit, N per unit or N/M units, optionally followed by burst B (e.g. \"100/minute\","
        + " \"10/15 minutes burst 20\")");
  }

  @Test
  void parse_textOverOneMebibyte_isRefusedWithoutParsing() {
    String yaml = HEAD + "defaults: { limits: [\"" + "1".repeat(50_000_000) + "/second\"] }\n";
    long start = System.nanoTime();
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, "huge.yaml", k -> null));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
        "huge.yaml:1:1: the policy file is larger than 1 MiB; expected a file of at most 1 MiB");
  }

  @Test
  void regularFiles_withinTheCaps_stillLoad() throws IOException {
    Files.writeString(dir.resolve("keys.txt"), "k1\nk2\n");
    Path file = policy("clients:\n  api_key: { header: X-API-Key, keys_file: keys.txt }\n"
        + "defaults: { by: [api_key, ip], limits: [\"10/second\"] }\n");
    assertThatCode(() -> ConfigLoader.load(file, k -> null)).doesNotThrowAnyException();
  }
}
