package dev.sluice.dist;

import dev.sluice.testkit.ManagedProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a program to completion and keeps its exit status and output (stdout and stderr merged). */
final class Command {

  /** What a finished program left. */
  record Result(List<String> command, int exitCode, String output) {
    /** For assertion messages: the command line and what it printed. */
    String describe() {
      return "$ " + String.join(" ", command) + "\n(exit " + exitCode + ")\n" + output;
    }
  }

  private final List<String> command;
  private final Map<String, String> environment = new LinkedHashMap<>();
  private final List<String> removedEnvironment = new ArrayList<>();

  private Command(List<String> command) {
    this.command = List.copyOf(command);
  }

  static Command of(String... command) {
    return new Command(List.of(command));
  }

  static Command of(List<String> command) {
    return new Command(command);
  }

  Command env(String key, String value) {
    environment.put(key, value);
    return this;
  }

  Command withoutEnv(String key) {
    removedEnvironment.add(key);
    return this;
  }

  /** Runs it (at most 120 s) and returns what it left, whatever the exit status. */
  Result run() throws IOException, InterruptedException {
    Path log = ManagedProcess.logDirectory().resolve("command-" + System.nanoTime() + ".log");
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    removedEnvironment.forEach(builder.environment()::remove);
    builder.environment().putAll(environment);
    Process process = builder.start();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("did not finish within 120 s: " + String.join(" ", command) + "\n"
          + Files.readString(log, StandardCharsets.UTF_8));
    }
    return new Result(command, process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
  }

  /** Runs it and fails the test unless it exits 0. */
  Result ok() throws IOException, InterruptedException {
    Result result = run();
    if (result.exitCode() != 0) {
      throw new AssertionError("expected exit 0:\n" + result.describe());
    }
    return result;
  }
}
