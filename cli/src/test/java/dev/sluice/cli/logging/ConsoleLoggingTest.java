package dev.sluice.cli.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The code configuration says exactly what the module's logback.xml says. */
class ConsoleLoggingTest {

  private static final List<String> LOGGERS = List.of(Logger.ROOT_LOGGER_NAME, "io.netty", "io.lettuce",
      "io.lettuce.core.protocol.ConnectionWatchdog", "io.lettuce.core.protocol.ReconnectionHandler", "dev.sluice");

  private static String describe(LoggerContext context) {
    StringBuilder out = new StringBuilder();
    for (String name : LOGGERS) {
      out.append(name).append('=').append(context.getLogger(name).getEffectiveLevel()).append('\n');
    }
    ConsoleAppender<ILoggingEvent> console =
        (ConsoleAppender<ILoggingEvent>) context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("console");
    out.append("target=").append(console.getTarget()).append('\n');
    out.append("pattern=").append(((PatternLayoutEncoder) console.getEncoder()).getPattern().strip()).append('\n');
    out.append("started=").append(console.isStarted()).append('\n');
    return out.toString();
  }

  @Test
  void sameAsLogbackXml() throws Exception {
    LoggerContext fromXml = new LoggerContext();
    JoranConfigurator joran = new JoranConfigurator();
    joran.setContext(fromXml);
    joran.doConfigure(ConsoleLogging.class.getResource("/logback.xml"));

    LoggerContext fromCode = new LoggerContext();
    ConsoleLogging logging = new ConsoleLogging();
    logging.setContext(fromCode);
    assertThat(logging.configure(fromCode)).isEqualTo(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);

    assertThat(describe(fromCode)).isEqualTo(describe(fromXml)).contains("io.netty=WARN", "target=System.err");
  }

  @Test
  void stepsAsideForAnExplicitConfigurationFile() {
    LoggerContext context = new LoggerContext();
    ConsoleLogging logging = new ConsoleLogging();
    logging.setContext(context);
    System.setProperty("logback.configurationFile", "/nonexistent/logback.xml");
    try {
      assertThat(logging.configure(context)).isEqualTo(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY);
      assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("console")).isNull();
    } finally {
      System.clearProperty("logback.configurationFile");
    }
  }
}
