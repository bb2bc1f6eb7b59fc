package dev.sluice.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The Dockerfile and deploy/docker-compose.yaml. No image can be built here (no Docker engine) and
 * Debian 12 has no hadolint, so these tests hold the files to what the docs promise: the build
 * stage runs the script the tarball test runs, the image runs as a non-root user with a
 * HEALTHCHECK on /readyz (the script {@link TarballTest} runs against a live gateway), every file
 * copied exists, and every policy file shipped for containers passes {@code sluice check}.
 */
class ContainerFilesTest {

  /** Dockerfile instructions, continuation lines joined, comments dropped. */
  static List<String> instructions(Path dockerfile) throws Exception {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : Files.readAllLines(dockerfile)) {
      String trimmed = line.strip();
      if (trimmed.startsWith("#") || trimmed.isEmpty()) {
        continue;
      }
      if (trimmed.endsWith("\\")) {
        current.append(trimmed, 0, trimmed.length() - 1).append(' ');
      } else {
        out.add(current.append(trimmed).toString().replaceAll("\\s+", " "));
        current.setLength(0);
      }
    }
    return out;
  }

  static Command.Result check(Path policy) throws Exception {
    return Command.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        System.getProperty("sluice.cli.jar", Dist.repo().resolve("cli/target/sluice.jar").toString()),
        "check", "-c", policy.toString()).run();
  }

  private static void assertCopiesExist(List<String> instructions) {
    for (String copy : instructions.stream().filter(i -> i.startsWith("COPY ") && !i.contains("--from")).toList()) {
      String[] words = copy.split(" ");
      for (int i = 1; i < words.length - 1; i++) {
        if (!words[i].equals(".")) {
          assertThat(Dist.repo().resolve(words[i])).as(copy).exists();
        }
      }
    }
  }

  @Test
  void dockerfile_buildsWithTheReleaseScript_andRunsAsNonRootWithAHealthcheck() throws Exception {
    List<String> df = instructions(Dist.repo().resolve("Dockerfile"));

    List<String> froms = df.stream().filter(i -> i.startsWith("FROM ")).toList();
    assertThat(froms).as("multi-stage: a Maven build stage, then a JRE").hasSize(2);
    assertThat(froms.get(0)).matches("FROM maven:\\S+-eclipse-temurin-17 AS build");
    assertThat(froms.get(1)).isEqualTo("FROM eclipse-temurin:17-jre");
    List<String> buildStage = df.subList(df.indexOf(froms.get(0)), df.indexOf(froms.get(1)));
    assertThat(buildStage.stream().filter(i -> i.startsWith("RUN ")))
        .as("the one build step is the script TarballTest runs").containsExactly("RUN packaging/release.sh /opt/sluice");
    assertThat(Dist.repo().resolve("packaging/release.sh")).isExecutable();

    List<String> runtime = df.subList(df.indexOf(froms.get(1)), df.size());
    String user = runtime.stream().filter(i -> i.startsWith("USER ")).reduce((a, b) -> b).orElseThrow();
    assertThat(user).isEqualTo("USER 10001:10001");
    assertThat(String.join("\n", runtime)).contains("useradd --system --uid 10001 --gid sluice");
    assertThat(runtime).contains(
        "COPY --from=build /opt/sluice /opt/sluice",
        "COPY packaging/docker/healthcheck.sh /opt/sluice/bin/healthcheck",
        "COPY packaging/docker/sluice.yaml /etc/sluice/sluice.yaml",
        "ENTRYPOINT [\"/opt/sluice/bin/sluice\"]",
        "CMD [\"serve\", \"-c\", \"/etc/sluice/sluice.yaml\"]");
    assertThat(runtime.stream().filter(i -> i.startsWith("HEALTHCHECK ")))
        .singleElement().asString().endsWith("CMD [\"/opt/sluice/bin/healthcheck\"]");
    assertThat(Files.readString(Dist.repo().resolve("packaging/docker/healthcheck.sh"))).contains("GET /readyz");
    assertThat(Dist.repo().resolve("packaging/docker/healthcheck.sh")).isExecutable();
    assertCopiesExist(df);
    assertThat(Files.readAllLines(Dist.repo().resolve(".dockerignore"))).contains("**/target");
  }

  @Test
  void imagePolicyFile_isValid_gatewayOnEveryInterface_adminOnLoopback() throws Exception {
    Path policy = Dist.repo().resolve("packaging/docker/sluice.yaml");

    Command.Result result = check(policy);

    assertThat(result.exitCode()).as(result.describe()).isZero();
    // The admin API stays on loopback (the HEALTHCHECK runs inside the container): beyond it an
    // admin API without a token is refused.
    assertThat(result.output()).contains("listen 0.0.0.0:8080", "admin 127.0.0.1:9090");
  }

  @Test
  @SuppressWarnings("unchecked")
  void compose_runsFlaskSluiceAndRedis_withAValidPolicyFile() throws Exception {
    Path deploy = Dist.repo().resolve("deploy");
    Map<String, Object> compose = new Yaml().load(Files.readString(deploy.resolve("docker-compose.yaml")));
    Map<String, Map<String, Object>> services = (Map<String, Map<String, Object>>) compose.get("services");

    assertThat(services).containsOnlyKeys("app", "redis", "sluice");
    Map<String, Object> sluice = services.get("sluice");
    assertThat((List<String>) sluice.get("depends_on")).containsExactlyInAnyOrder("app", "redis");
    assertThat((List<String>) sluice.get("ports")).as("the admin port is not published").containsExactly("127.0.0.1:8080:8080");
    for (String service : List.of("app", "sluice")) {
      Map<String, String> build = (Map<String, String>) services.get(service).get("build");
      Path dockerfile = deploy.resolve(build.get("context")).resolve(build.get("dockerfile")).normalize();
      assertThat(dockerfile).as(service).isRegularFile();
      assertCopiesExist(instructions(dockerfile));
    }
    assertThat(String.join("\n", instructions(deploy.resolve("app.Dockerfile"))))
        .contains("apt-get install -y --no-install-recommends python3-flask gunicorn", "app:app", "USER 10002");

    // The launcher's serve defaults with the sidecar's bound (docs/operations.md, "Sizing the JVM").
    assertThat((Map<String, String>) sluice.get("environment"))
        .containsEntry("SLUICE_JAVA_OPTS", "-Xms16m -Xmx256m");
    assertThat(Files.readString(Dist.repo().resolve("packaging/bin/sluice"))).contains("heap=\"-Xms16m -Xmx512m\"");
    String volume = ((List<String>) sluice.get("volumes")).get(0);
    assertThat(volume).endsWith(":/etc/sluice/sluice.yaml:ro");
    Path policy = deploy.resolve(volume.substring(0, volume.indexOf(':'))).normalize();
    Command.Result result = check(policy);
    assertThat(result.exitCode()).as(result.describe()).isZero();
    assertThat(result.output()).contains("-> upstream http://app:5000", "store redis");
    assertThat(Files.readString(policy)).contains("url: redis://redis:6379");
  }
}
