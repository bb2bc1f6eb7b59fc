package dev.sluice.cli;

import picocli.CommandLine;

/**
 * What the user sees when a command fails in a way nobody foresaw: one line naming the command and
 * the failure, exit status 1. A stack trace helps nobody who runs {@code sluice check}; errors the
 * commands expect (a bad file, a taken port) have their own messages before this is ever reached.
 */
final class InternalErrors {
  private InternalErrors() {}

  /** picocli's execution exception handler: prints one line to the command's error stream. */
  static int handle(Exception e, CommandLine command, CommandLine.ParseResult parsed) {
    command.getErr().println("sluice " + command.getCommandName() + ": internal error: " + describe(e));
    command.getErr().flush();
    return 1;
  }

  /** The failure and its root cause on one line, e.g. {@code IllegalStateException: x (cause: ...)}. */
  static String describe(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String text = t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    if (root != t) {
      text += " (cause: " + root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage()) + ")";
    }
    return text.replace('\n', ' ').replace('\r', ' ');
  }
}
