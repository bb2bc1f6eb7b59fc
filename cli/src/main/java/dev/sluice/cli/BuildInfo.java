package dev.sluice.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * What {@code sluice --version} prints: the version and the git commit the build embedded in
 * {@code build.properties} (see {@code cli/pom.xml}).
 *
 * <p>A build from a source tree without {@code .git} (a source tarball) has no commit: the
 * placeholder stays unexpanded and the commit reads {@code unknown}. A build with uncommitted
 * changes has a commit ending in {@code -dirty}.
 *
 * @param version the Maven version, e.g. {@code 0.1.0}
 * @param commit  the abbreviated commit id, {@code <id>-dirty}, or {@code unknown}
 */
record BuildInfo(String version, String commit) {

  static final String UNKNOWN = "unknown";
  private static final String RESOURCE = "build.properties";

  /** The build's own information, from the class path. */
  static BuildInfo current() {
    try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
      Properties properties = new Properties();
      if (in != null) {
        properties.load(in);
      }
      return of(properties);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE + " from the sluice jar", e);
    }
  }

  /** Reads the properties the build filtered; any value the build could not fill in is unknown. */
  static BuildInfo of(Properties properties) {
    return new BuildInfo(value(properties, "version"), value(properties, "commit"));
  }

  private static String value(Properties properties, String key) {
    String v = properties.getProperty(key, "").strip();
    // An unexpanded ${...} means the build had no value for it (no git checkout).
    return v.isEmpty() || v.contains("${") ? UNKNOWN : v;
  }

  /** The lines of {@code sluice --version}. */
  String[] versionLines() {
    return new String[] {
      "sluice " + version + " (commit " + commit + ")",
      "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ", "
          + System.getProperty("java.vendor") + ")"
    };
  }
}
