package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code sluice serve ...} builds the picocli model of {@code serve} alone (start-up time), and
 * that changes nothing a user sees: the same usage for the subcommand, every subcommand listed
 * in the same order when none (or an unknown one) is named.
 */
class MainSubcommandsTest {
  private static final String[] ALL = {"serve", "check", "explain", "demo", "verify", "replay", "tune"};

  @Test
  void namedSubcommand_onlyItsModelIsBuilt() {
    assertThat(Main.commandLine("serve").getSubcommands().keySet()).containsExactly("serve");
    assertThat(Main.commandLine("check").getSubcommands().keySet()).containsExactly("check");
  }

  @Test
  void noSubcommandOrAnUnknownOne_allOfThemInUsageOrder() {
    assertThat(Main.commandLine().getSubcommands().keySet()).containsExactly(ALL);
    assertThat(Main.commandLine(null).getSubcommands().keySet()).containsExactly(ALL);
    assertThat(Main.commandLine("--help").getSubcommands().keySet()).containsExactly(ALL);
    assertThat(Main.commandLine("serv").getSubcommands().keySet()).containsExactly(ALL);
  }

  @Test
  void serveHelp_isTheSameWithOneModelOrAll() {
    assertThat(help(Main.commandLine("serve"))).isEqualTo(help(Main.commandLine())).contains("Usage: sluice serve");
  }

  @Test
  void settingsReachTheLoneSubcommand() {
    CommandLine serve = Main.commandLine("serve").getSubcommands().get("serve");
    assertThat(serve.isCaseInsensitiveEnumValuesAllowed()).isTrue();
    assertThat(serve.getExecutionExceptionHandler()).isNotNull();
  }

  private static String help(CommandLine line) {
    StringWriter out = new StringWriter();
    line.setOut(new PrintWriter(out));
    line.setErr(new PrintWriter(new StringWriter()));
    assertThat(line.execute("serve", "--help")).isZero();
    return out.toString();
  }
}
