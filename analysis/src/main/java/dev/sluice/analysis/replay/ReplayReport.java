package dev.sluice.analysis.replay;

import java.util.List;
import java.util.Map;

/**
 * What a replay found.
 *
 * @param log the log file's name
 * @param format the log format's name
 * @param lines lines read
 * @param requests lines that were requests (decided, or exempt as logged)
 * @param malformed lines skipped as malformed (see {@code problems})
 * @param problems the first malformed lines, {@code file:line: reason}
 * @param unreadableClients lines whose client address is not an IP literal (not decided)
 * @param linesBehind lines older than an earlier line (decided at the earlier time)
 * @param firstNanos the first line's time (epoch nanoseconds), or -1 without requests
 * @param lastNanos the last decided time, or -1
 * @param outcomes outcome word → requests (the access log's words, {@code exempt} included)
 * @param changed for Sluice's own log: requests whose replayed outcome differs from the logged
 *     one, by {@code logged→replayed} (empty for other formats)
 * @param policies per applied policy, file order, {@code default} last
 * @param seconds wall time the replay took
 */
public record ReplayReport(String log, String format, long lines, long requests, long malformed, List<String> problems,
    long unreadableClients, long linesBehind, long firstNanos, long lastNanos, Map<String, Long> outcomes,
    Map<String, Long> changed, List<PolicyReport> policies, double seconds) {

  /**
   * One policy.
   *
   * @param name the policy's name ({@code default} for the defaults)
   * @param mode {@code enforce}, {@code shadow}, or {@code rollout N%}
   * @param requests requests it applied to
   * @param limited requests it refused (enforced)
   * @param shadowLimited requests it would have refused (shadow, or outside its rollout share)
   * @param banned requests refused because the identity was banned
   * @param firstLimitedNanos when it first refused or shadow-limited, or -1
   * @param top the identities most often limited or shadow-limited by it, most first
   * @param topApproximate whether more distinct identities were limited than could be counted
   *     exactly (counts are then lower bounds)
   */
  public record PolicyReport(String name, String mode, long requests, long limited, long shadowLimited, long banned,
      long firstLimitedNanos, List<TopCounter.Top> top, boolean topApproximate) {

    /** The share of its requests it limited or shadow-limited (0 when none applied). */
    public double share() {
      return requests == 0 ? 0 : (double) (limited + shadowLimited + banned) / requests;
    }
  }
}
