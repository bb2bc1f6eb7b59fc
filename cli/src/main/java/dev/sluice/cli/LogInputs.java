package dev.sluice.cli;

import dev.sluice.analysis.logs.LineParser;
import dev.sluice.analysis.logs.LogFormat;
import dev.sluice.analysis.replay.ClientKeys;
import dev.sluice.config.SluiceConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The options {@code sluice replay} and {@code sluice tune} share (a picocli mixin): the policy
 * file, the log, its format and field names, and opening them with the commands' error messages.
 */
final class LogInputs {

  @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "The policy file.")
  Path config;

  @Option(names = "--log", required = true, paramLabel = "LOG", description = "The access log (.gz is read as gzip).")
  Path log;

  @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "sluice",
      description = "sluice (Sluice's access_log), combined (nginx/Apache) or json. Default: ${DEFAULT-VALUE}.")
  String format;

  @Option(names = "--field", paramLabel = "NAME=KEY",
      description = "JSON lines only: the key holding a field (time, method, path, client_ip, status, api_key, user).")
  Map<String, String> fields = new LinkedHashMap<>();

  /** Opens the policy file, its API key set-up and the log format; empty after printing why not. */
  Optional<Inputs> open(String command, PrintWriter err) {
    return Inputs.open(command, config, format, fields, err);
  }

  /** What replay and tune both read before the log: the policy file, its API key set-up, the format. */
  record Inputs(SluiceConfig config, ClientKeys keys, LogFormat format, Map<String, String> fields) {
    LineParser parser() {
      return format.parser(fields, config.gateway().encodedSlashes());
    }

    static Optional<Inputs> open(String command, Path file, String formatName, Map<String, String> fields,
        PrintWriter err) {
      LogFormat format;
      try {
        format = LogFormat.valueOf(formatName.toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        err.println("sluice " + command + ": --format " + formatName + ": expected sluice, combined or json");
        err.flush();
        return Optional.empty();
      }
      Optional<SluiceConfig> loaded = PolicyFiles.loadOrReport(file, err);
      if (loaded.isEmpty()) {
        return Optional.empty();
      }
      try {
        format.parser(fields, loaded.get().gateway().encodedSlashes());
      } catch (IllegalArgumentException e) {
        err.println("sluice " + command + ": " + e.getMessage());
        err.flush();
        return Optional.empty();
      }
      try {
        return Optional.of(new Inputs(loaded.get(), ClientKeys.of(loaded.get()), format, fields));
      } catch (IOException e) {
        err.println("sluice " + command + ": cannot read the API keys of " + file + ": " + e.getMessage());
        err.flush();
        return Optional.empty();
      }
    }
  }
}
