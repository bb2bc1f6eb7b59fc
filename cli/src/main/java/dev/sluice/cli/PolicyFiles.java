package dev.sluice.cli;

import dev.sluice.config.ConfigError;
import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How the commands read the policy file given with {@code -c}: one place, so {@code check} and
 * {@code serve} report a bad file with the same lines.
 */
final class PolicyFiles {
  private PolicyFiles() {}

  /**
   * Loads {@code file} (secrets from the process environment). When it cannot be read or is
   * invalid, prints every error as {@code file:line:column: message}, one a line, to {@code err}
   * and returns empty; the caller then exits with its {@code INVALID} status.
   */
  static Optional<SluiceConfig> loadOrReport(Path file, PrintWriter err) {
    try {
      return Optional.of(ConfigLoader.load(file));
    } catch (ConfigException e) {
      return report(e, err);
    }
  }

  /**
   * Prints {@link dev.sluice.config.GatewaySettings#adminWarnings()} on {@code err}, one a line,
   * as {@code sluice <command>: WARNING: ...}: an admin API without a token is worth a line on
   * every start, not only in the matrix.
   */
  static void warnAboutAdmin(String command, SluiceConfig config, PrintWriter err) {
    for (String warning : config.gateway().adminWarnings()) {
      err.println("sluice " + command + ": WARNING: " + warning);
    }
    err.flush();
  }

  /** {@link #loadOrReport} as {@code check} reads: an unset {@code ${VAR}} is a warning. */
  static Optional<SluiceConfig> loadForCheckOrReport(Path file, PrintWriter err) {
    try {
      return Optional.of(ConfigLoader.loadForCheck(file, System::getenv));
    } catch (ConfigException e) {
      return report(e, err);
    }
  }

  private static Optional<SluiceConfig> report(ConfigException e, PrintWriter err) {
    for (ConfigError error : e.errors()) {
      err.println(error);
    }
    err.flush();
    return Optional.empty();
  }
}
