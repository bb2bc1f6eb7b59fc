package dev.sluice.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import java.util.Locale;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/**
 * The process log's format and level, shared by the commands that run a server ({@code serve},
 * {@code demo}): {@code --log-format plain|json} (environment {@code SLUICE_LOG_FORMAT}) and
 * {@code --log-level error|warn|info|debug|trace} (environment {@code SLUICE_LOG_LEVEL}). The log
 * goes to standard error; {@code json} is logback's own {@link JsonEncoder}, one object a line.
 *
 * <p>Applied by replacing the console appender of {@code logback.xml} once, before the command
 * starts anything; Netty and Lettuce stay at {@code warn} unless a stricter level is asked for.
 * An operator's own {@code -Dlogback.configurationFile=FILE} rules instead: its appenders and
 * levels are left as that file says, and these two options do not apply.
 */
public final class LogOptions {
  /** How each log event is written. */
  public enum Format { PLAIN, JSON }

  /** The least severe events written. */
  public enum LogLevel { ERROR, WARN, INFO, DEBUG, TRACE }

  /** The pattern of {@code logback.xml}'s console appender, kept for {@code plain}. */
  static final String PLAIN_PATTERN = "%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n";

  @Option(names = "--log-format", paramLabel = "plain|json", defaultValue = "${env:SLUICE_LOG_FORMAT:-plain}",
      description = "Process log format on stderr: plain or json (one JSON object a line)."
          + " Default: $SLUICE_LOG_FORMAT, else plain.")
  Format format = Format.PLAIN;

  @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "${env:SLUICE_LOG_LEVEL:-info}",
      description = "Least severe events logged: error, warn, info, debug or trace."
          + " Default: $SLUICE_LOG_LEVEL, else info.")
  LogLevel level = LogLevel.INFO;

  /** Reconfigures logback's console appender and levels; call before anything logs. */
  void apply() {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return; // another SLF4J binding (an embedding application): its configuration rules
    }
    if (System.getProperty("logback.configurationFile") != null) {
      return; // the operator's own logback file (ConsoleLogging stepped aside for it too)
    }
    Level rootLevel = Level.toLevel(level.name());
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(rootLevel);
    Level libraries = rootLevel.isGreaterOrEqual(Level.WARN) ? rootLevel : Level.WARN;
    context.getLogger("io.netty").setLevel(libraries);
    context.getLogger("io.lettuce").setLevel(libraries);

    Encoder<ILoggingEvent> encoder;
    if (format == Format.JSON) {
      JsonEncoder json = new JsonEncoder();
      json.setWithSequenceNumber(false);
      json.setWithNanoseconds(false);
      json.setWithContext(false);
      json.setWithFormattedMessage(true);
      json.setWithMessage(false);
      json.setWithArguments(false);
      encoder = json;
    } else {
      PatternLayoutEncoder plain = new PatternLayoutEncoder();
      plain.setPattern(PLAIN_PATTERN);
      encoder = plain;
    }
    encoder.setContext(context);
    encoder.start();
    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setContext(context);
    console.setName("console");
    console.setTarget("System.err");
    console.setEncoder(encoder);
    console.start();
    root.detachAndStopAllAppenders();
    root.addAppender(console);
  }

  @Override
  public String toString() {
    return "--log-format " + format.name().toLowerCase(Locale.ROOT) + " --log-level " + level.name().toLowerCase(Locale.ROOT);
  }
}
