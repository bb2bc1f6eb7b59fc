package dev.sluice.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
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
    description = "Rate limiting and abuse control for HTTP APIs: a gateway in front of one upstream.")
public final class Main implements Runnable {
  /**
   * The subcommands, in the order the usage lists them. Added in code rather than in
   * {@code @Command(subcommands = ...)} so that a run of one subcommand builds the model of that
   * one only: picocli reads every command's annotations by reflection, and its own classes are too
   * old a class-file version for the class-data sharing archive, so each model built is start-up
   * time of {@code serve}.
   */
  private static final Map<String, Supplier<Object>> SUBCOMMANDS = subcommands();

  private static Map<String, Supplier<Object>> subcommands() {
    Map<String, Supplier<Object>> all = new LinkedHashMap<>();
    all.put("serve", ServeCommand::new);
    all.put("check", CheckCommand::new);
    all.put("explain", ExplainCommand::new);
    all.put("demo", DemoCommand::new);
    all.put("verify", VerifyCommand::new);
    all.put("replay", ReplayCommand::new);
    all.put("tune", TuneCommand::new);
    return all;
  }

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Runs the command line and exits the JVM with its exit code. */
  public static void main(String[] args) {
    nettyProductionDefaults();
    int code;
    try {
      code = commandLine(args.length > 0 ? args[0] : null).execute(args);
    } catch (Throwable t) {
      // Last line of defence (an Error picocli does not handle, such as OutOfMemoryError): one
      // line, never a stack trace.
      System.err.println("sluice: internal error: " + InternalErrors.describe(t));
      code = 1;
    }
    System.exit(code);
  }

  /** The system property of Netty's buffer leak detector (its level). */
  static final String LEAK_DETECTION = "io.netty.leakDetection.level";

  /** The system property that lets Netty's buffer allocators emit JDK Flight Recorder events. */
  static final String NETTY_JFR = "io.netty.jfr.enabled";

  /**
   * Netty's defaults that a production process does not want, set before any Netty class loads
   * and only where the user set nothing. Tests that run the gateway as a library keep Netty's
   * defaults.
   *
   * <ul>
   *   <li>The leak detector (default {@code simple}) samples buffers and, for every message, asks
   *       each pipeline step to "touch" it: in a flood that cost about 5% of the gateway's CPU per
   *       request (paired runs, docs/benchmarks.md, G2). {@code -Dio.netty.leakDetection.level=simple}
   *       (or {@code paranoid}, in {@code SLUICE_JAVA_OPTS}) turns it back on.
   *   <li>Netty's allocator events for the Flight Recorder (on by default wherever the JVM has
   *       one): the first buffer allocation then loads their event classes, which the class-data
   *       sharing archive cannot hold, and with them the recorder's event registry, recording or
   *       not — about a tenth of a second of CPU before the gateway is ready (paired, one CPU:
   *       ready ×0.83, docs/benchmarks.md "Cold start"). {@code -Dio.netty.jfr.enabled=true}
   *       brings them back for a recording that wants them; the JVM's own events are unaffected.
   * </ul>
   */
  static void nettyProductionDefaults() {
    if (System.getProperty(LEAK_DETECTION) == null && System.getProperty("io.netty.leakDetectionLevel") == null) {
      System.setProperty(LEAK_DETECTION, "disabled");
    }
    if (System.getProperty(NETTY_JFR) == null) {
      System.setProperty(NETTY_JFR, "false");
    }
  }

  /**
   * The configured command line, for embedding and in-process tests (set its out/err writers,
   * then {@link CommandLine#execute(String...)}).
   */
  public static CommandLine commandLine() {
    return commandLine(null);
  }

  /**
   * The command line with only the subcommand named {@code first} when it names one (what a run of
   * {@code sluice serve ...} needs), else with all of them (usage, suggestions for a mistyped name).
   */
  static CommandLine commandLine(String first) {
    CommandLine line = new CommandLine(new Main());
    boolean one = first != null && SUBCOMMANDS.containsKey(first);
    SUBCOMMANDS.forEach((name, command) -> {
      if (!one || name.equals(first)) {
        line.addSubcommand(name, command.get());
      }
    });
    // After the subcommands: picocli applies these settings to the subcommands present.
    return line
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
