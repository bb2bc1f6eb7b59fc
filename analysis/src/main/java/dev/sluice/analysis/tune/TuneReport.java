package dev.sluice.analysis.tune;

import java.util.List;

/**
 * What {@code sluice tune} found.
 *
 * @param log the log file's name
 * @param requests requests read
 * @param malformed lines skipped as malformed
 * @param problems the first malformed lines, {@code file:line: reason}
 * @param firstNanos first request time (epoch ns), or -1
 * @param lastNanos last request time, or -1
 * @param quantile the share of identities the suggestion must never limit
 * @param headroom the factor applied on top
 * @param limits per policy and limit, file order
 */
public record TuneReport(String log, long requests, long malformed, List<String> problems, long firstNanos,
    long lastNanos, double quantile, double headroom, List<LimitReport> limits) {

  /**
   * One limit of one policy.
   *
   * @param policy the policy's name
   * @param index the limit's position (0-based) in the policy
   * @param current the limit as written
   * @param algorithm {@code gcra} or {@code sliding_window}
   * @param cost tokens per request
   * @param identities identities that sent at least one request it applies to
   * @param p50 median peak demand (tokens in the limit's window)
   * @param p90 90th percentile
   * @param p99 99th percentile
   * @param p999 99.9th percentile
   * @param max the highest peak
   * @param overCurrent identities whose peak exceeded the current quantity
   * @param suggestedQuantity the suggested N
   * @param suggestedBurst the suggested burst (GCRA; equal to N when none is needed), else N
   * @param suggested the suggested limit as policy-file text
   * @param overSuggested identities whose peak exceeded the suggested N
   * @param partners known partners whose demand the suggestion would have limited
   * @param sortedPeaks every identity's peak, ascending (for the plot; bounded by identities)
   */
  public record LimitReport(String policy, int index, String current, String algorithm, long cost, long identities,
      long p50, long p90, long p99, long p999, long max, long overCurrent, long suggestedQuantity,
      long suggestedBurst, String suggested, long overSuggested, List<Partner> partners, long[] sortedPeaks) {}

  /**
   * A known partner (an {@code exempt} entry or a {@code keys_file} key) above the suggestion.
   *
   * @param identity its identity ({@code kind:value}, secrets hashed)
   * @param source where the file names it
   * @param peak its peak demand in the limit's window
   * @param burstNeed the burst it needs at the suggested rate (GCRA), else its peak
   */
  public record Partner(String identity, String source, long peak, long burstNeed) {}
}
