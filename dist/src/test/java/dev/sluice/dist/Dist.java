package dev.sluice.dist;

import dev.sluice.testkit.RepoRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Where the build put the artifacts under test. */
final class Dist {

  private Dist() {
  }

  /** The Maven project version (e.g. 0.1.0-SNAPSHOT). */
  static String version() {
    return System.getProperty("sluice.version", "0.1.0-SNAPSHOT");
  }

  static Path repo() {
    return RepoRoot.find();
  }

  /** dist/<build dir>, where the tarball and the .deb are. */
  static Path buildDir() {
    String dir = System.getProperty("sluice.dist.dir");
    return dir != null ? Path.of(dir) : repo().resolve("dist/target");
  }

  static Path tarball() {
    return existing(buildDir().resolve("sluice-" + version() + ".tar.gz"));
  }

  static Path deb() throws IOException {
    try (Stream<Path> files = Files.list(buildDir())) {
      List<Path> debs = files.filter(p -> p.getFileName().toString().matches("sluice_.+_all\\.deb")).toList();
      if (debs.size() != 1) {
        throw new IllegalStateException("expected one sluice_*_all.deb in " + buildDir() + " (run `mvn package`"
            + " for the dist module first), found " + debs);
      }
      return debs.get(0);
    }
  }

  private static Path existing(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException(file + " does not exist: the dist module's tests run after `package`"
          + " (mvn -pl dist -am verify)");
    }
    return file;
  }
}
