package dev.sluice.dist;

/** The JVM options packaging/bin/sluice adds by default (kept in one place for the tests). */
final class Launcher {

  private Launcher() {
  }

  /** For serve and demo, in the order the launcher passes them. */
  static final String GATEWAY_OPTIONS = "-Xms16m -Xmx512m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError";
}
