package dev.sluice.cli;

import dev.sluice.analysis.plot.DemandPlot;
import dev.sluice.analysis.tune.Tune;
import dev.sluice.analysis.tune.TunePrinter;
import dev.sluice.analysis.tune.TuneReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code sluice tune -c FILE --log LOG [--quantile 0.999] [--headroom 1.5] [--plot FILE.png]}: per
 * policy and limit, the identities' peak demand and the limit that would have limited only the
 * quantile's complement, as a YAML fragment (see {@code dev.sluice.analysis.tune}). Exit 0, or 2
 * for a bad policy file, option or unreadable log.
 */
@Command(
    name = "tune",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Suggest limits from an access log: per policy and limit, each identity's peak demand over",
      "the limit's window, its distribution, and the limit (and burst) that would have limited only",
      "the given quantile's complement of identities, times a headroom, as YAML to paste."
    })
public final class TuneCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Mixin LogInputs input;

  @Option(names = "--quantile", paramLabel = "Q", defaultValue = "0.999",
      description = "Share of identities the suggestion must never limit. Default: ${DEFAULT-VALUE}.")
  double quantile;

  @Option(names = "--headroom", paramLabel = "H", defaultValue = "1.5",
      description = "Factor on top of the quantile's demand. Default: ${DEFAULT-VALUE}.")
  double headroom;

  @Option(names = "--plot", paramLabel = "FILE.png", description = "Draw each limit's demand distribution to this PNG.")
  Path plot;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Optional<LogInputs.Inputs> inputs = input.open("tune", err);
    if (inputs.isEmpty()) {
      return CheckCommand.INVALID;
    }
    LogInputs.Inputs in = inputs.get();
    Tune tune;
    try {
      tune = new Tune(in.config(), in.keys(), quantile, headroom);
    } catch (IllegalArgumentException e) {
      err.println("sluice tune: " + e.getMessage());
      err.flush();
      return CheckCommand.INVALID;
    }
    TuneReport report;
    try {
      report = tune.run(input.log, in::parser);
    } catch (IOException e) {
      err.println("sluice tune: cannot read " + input.log + ": " + e.getMessage());
      err.flush();
      return CheckCommand.INVALID;
    }
    out.print(TunePrinter.text(report));
    out.flush();
    if (plot != null) {
      try {
        DemandPlot.write(report, plot);
        err.println("sluice tune: plot written to " + plot);
      } catch (IOException e) {
        err.println("sluice tune: cannot write the plot " + plot + ": " + e.getMessage());
        err.flush();
        return CheckCommand.INVALID;
      }
      err.flush();
    }
    return 0;
  }
}
