package dev.sluice.cli;

import dev.sluice.analysis.replay.Replay;
import dev.sluice.analysis.replay.ReplayPrinter;
import dev.sluice.analysis.replay.ReplayReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

  @Mixin LogInputs input;

  @Option(names = "--json", description = "Print the report as JSON for scripts.")
  boolean json;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Optional<LogInputs.Inputs> inputs = input.open("replay", err);
    if (inputs.isEmpty()) {
      return CheckCommand.INVALID;
    }
    LogInputs.Inputs in = inputs.get();
    ReplayReport report;
    try {
      report = new Replay(in.config(), in.keys(), null).run(input.log, in.parser(), in.format().configName());
    } catch (IOException e) {
      err.println("sluice replay: cannot read " + input.log + ": " + e.getMessage());
      err.flush();
      return CheckCommand.INVALID;
    }
    out.print(json ? ReplayPrinter.json(report) : ReplayPrinter.text(report));
    out.flush();
    return 0;
  }
}
