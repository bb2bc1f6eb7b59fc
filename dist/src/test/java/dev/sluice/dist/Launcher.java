package dev.sluice.dist;

/** The JVM options packaging/bin/sluice adds by default (kept in one place for the tests). */
final class Launcher {

  private Launcher() {
  }

  /** For serve and demo, in the order the launcher passes them. */
  static final String GATEWAY_OPTIONS = "-Xms64m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=50 -XX:+ExitOnOutOfMemoryError";
}
