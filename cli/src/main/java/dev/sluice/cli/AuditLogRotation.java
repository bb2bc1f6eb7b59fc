package dev.sluice.cli;

import dev.sluice.gateway.Gateway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * {@code SIGUSR1} reopens the audit log and access log files by their paths, the signal logrotate's
 * {@code postrotate} sends after renaming it (a {@code copytruncate}-free rotation: nothing is
 * lost or written twice).
 *
 * <p>{@code sun.misc.Signal} (module {@code jdk.unsupported}) is the JDK's only way to handle a
 * signal; the JVM itself does not use {@code SIGUSR1} on Linux. Where the signal cannot be
 * handled (another OS, or {@code -Xrs}) a warning says so and the gateway runs on.
 */
final class AuditLogRotation {
  private static final Logger log = LoggerFactory.getLogger(AuditLogRotation.class);

  private AuditLogRotation() {}

  /** Installs the handler for the life of the process; the handler only queues the reopen. */
  static void install(Gateway gateway) {
    try {
      Signal.handle(new Signal("USR1"), signal -> {
        boolean audit = gateway.reopenAuditLog();
        boolean access = gateway.reopenAccessLog();
        if (!audit && !access) {
          log.info("SIGUSR1: no audit or access log file to reopen");
        }
      });
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      log.warn("SIGUSR1 cannot be handled here ({}): the audit log is not reopened on logrotate's signal",
          e.getMessage());
    }
  }
}
