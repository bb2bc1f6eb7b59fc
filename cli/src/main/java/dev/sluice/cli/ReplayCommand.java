package dev.sluice.cli;

import dev.sluice.analysis.logs.LineParser;
import dev.sluice.analysis.logs.LogFormat;
import dev.sluice.analysis.replay.ClientKeys;
import dev.sluice.analysis.replay.Replay;
import dev.sluice.analysis.replay.ReplayPrinter;
import dev.sluice.analysis.replay.ReplayReport;
import dev.sluice.config.SluiceConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sluice replay -c FILE --log LOG [--format sluice|combined|json] [--field NAME=KEY]… [--json]}:
 * the log through the policy file's real engine offline (see {@code dev.sluice.analysis.replay}).
 * Exit 0, or 2 for a bad policy file, option or unreadable log.
 */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Replay an access log through the policy file's engine offline (virtual clock at the log's",
      "timestamps, memory store, no network) and print per policy what would have been limited."
    })
public final class ReplayCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

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

  @Option(names = "--json", description = "Print the report as JSON for scripts.")
  boolean json;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Optional<Inputs> inputs = Inputs.open("replay", config, format, fields, err);
    if (inputs.isEmpty()) {
      return CheckCommand.INVALID;
    }
    Inputs in = inputs.get();
    ReplayReport report;
    try {
      report = new Replay(in.config(), in.keys(), null).run(log, in.parser(), in.format().configName());
    } catch (IOException e) {
      err.println("sluice replay: cannot read " + log + ": " + e.getMessage());
      err.flush();
      return CheckCommand.INVALID;
    }
    out.print(json ? ReplayPrinter.json(report) : ReplayPrinter.text(report));
    out.flush();
    return 0;
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
