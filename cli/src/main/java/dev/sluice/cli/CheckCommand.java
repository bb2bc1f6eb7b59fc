package dev.sluice.cli;

import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.PolicyMatrix;
import dev.sluice.config.SluiceConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sluice check -c FILE}: validates a policy file and prints its effective policy matrix.
 * Exit 0 when valid; exit 2 with every error as {@code file:line:column: message} on stderr.
 */
@Command(
    name = "check",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Validate a policy file and print the effective policy matrix (route x identity x limits).",
      "Exit status: 0 valid, 2 invalid (errors on stderr as file:line:column: message;",
      "with --json, inside the JSON document on stdout)."
    })
public final class CheckCommand implements Callable<Integer> {
  /** Exit status for an invalid or unreadable policy file. */
  public static final int INVALID = 2;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE",
      description = "The policy file (YAML, version: 1).")
  Path config;

  @Option(names = "--json",
      description = "Print the result as one JSON document on stdout (format 1, see docs/cli.md), errors included.")
  boolean json;

  @Option(names = "--print-effective",
      description = "Print the file as read after ${VAR} substitution (secrets masked) instead of the matrix.")
  boolean printEffective;

  @Override
  public Integer call() {
    if (json) {
      return json(spec.commandLine().getOut());
    }
    // ${VAR} without a value is a warning here (the file may be checked away from its environment).
    Optional<SluiceConfig> loaded = PolicyFiles.loadForCheckOrReport(config, spec.commandLine().getErr());
    if (loaded.isEmpty()) {
      return INVALID;
    }
    PrintWriter out = spec.commandLine().getOut();
    if (printEffective) {
      try {
        out.print(ConfigLoader.effective(config, System::getenv));
      } catch (ConfigException e) {
        e.errors().forEach(spec.commandLine().getErr()::println);
        spec.commandLine().getErr().flush();
        return INVALID;
      }
      for (String warning : loaded.get().warnings()) {
        spec.commandLine().getErr().println("warning: " + warning);
      }
      spec.commandLine().getErr().flush();
      out.flush();
      return 0;
    }
    out.print(PolicyMatrix.render(loaded.get()));
    out.flush();
    PolicyFiles.warnAboutAdmin("check", loaded.get(), spec.commandLine().getErr());
    return 0;
  }

  /** {@code --json}: the document on stdout whether the file is valid or not; the same exit codes. */
  private int json(PrintWriter out) {
    int status;
    try {
      out.print(CheckJson.valid(config.toString(), ConfigLoader.load(config)));
      status = 0;
    } catch (ConfigException e) {
      out.print(CheckJson.invalid(config.toString(), e.errors()));
      status = INVALID;
    }
    out.flush();
    return status;
  }
}
