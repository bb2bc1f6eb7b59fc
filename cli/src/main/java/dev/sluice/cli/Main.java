package dev.sluice.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of {@code sluice} (the runnable jar and the {@code ./sluice} launcher).
 *
 * <p>Exit codes: 0 success, 2 invalid policy file or invalid command line, 1 any other failure.
 * A failure nobody foresaw is printed as one line ({@code sluice check: internal error: ...}),
 * never as a stack trace.
 */
@Command(
    name = "sluice",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Rate limiting and abuse control for HTTP APIs: a gateway in front of one upstream.",
    subcommands = {ServeCommand.class, CheckCommand.class, ExplainCommand.class, DemoCommand.class, VerifyCommand.class,
        ReplayCommand.class, TuneCommand.class})
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Runs the command line and exits the JVM with its exit code. */
  public static void main(String[] args) {
    int code;
    try {
      code = commandLine().execute(args);
    } catch (Throwable t) {
      // Last line of defence (an Error picocli does not handle, such as OutOfMemoryError): one
      // line, never a stack trace.
      System.err.println("sluice: internal error: " + InternalErrors.describe(t));
      code = 1;
    }
    System.exit(code);
  }

  /**
   * The configured command line, for embedding and in-process tests (set its out/err writers,
   * then {@link CommandLine#execute(String...)}).
   */
  public static CommandLine commandLine() {
    return new CommandLine(new Main())
        .setCaseInsensitiveEnumValuesAllowed(true)
        .setExecutionExceptionHandler(InternalErrors::handle);
  }

  /** Without a subcommand: print usage to stderr and fail (a bare {@code sluice} is a usage error). */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "Missing required subcommand (serve, check, explain, demo, verify, replay or tune)");
  }

  /** The version and git commit the build embedded (see {@link BuildInfo}). */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return BuildInfo.current().versionLines();
    }
  }
}
