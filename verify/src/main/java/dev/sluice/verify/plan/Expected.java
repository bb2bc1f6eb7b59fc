package dev.sluice.verify.plan;

import java.util.List;

/**
 * What a refusal of a limit check must look like (SPEC §5).
 *
 * @param item the item name of the limit ({@code login} or {@code login/1})
 * @param limitText the limit as written in the file
 * @param quantity N
 * @param periodSeconds the period in seconds (the advertised {@code w})
 * @param capacity burst (GCRA) or N (sliding window), in tokens
 * @param cost tokens per request
 * @param slidingWindow whether the policy uses the sliding window
 * @param advertised every limit of the policy as {@code RateLimit-Policy} must list it
 * @param headers the file's {@code headers:} ({@code ietf}, {@code legacy}, {@code both}, {@code none})
 */
public record Expected(String item, String limitText, long quantity, long periodSeconds, long capacity, long cost,
    boolean slidingWindow, List<Advertised> advertised, String headers) {

  /** One item of {@code RateLimit-Policy}: name, q, w, and sluice-burst (0 when equal to q). */
  public record Advertised(String item, long q, long w, long burst) {}

  /** The most requests of this cost a limit admits within {@code elapsedNanos} of a fresh start. */
  public long admittedBound(long elapsedNanos) {
    long periodNanos = periodSeconds * 1_000_000_000L;
    if (slidingWindow) {
      return quantity * (1 + elapsedNanos / periodNanos) / cost;
    }
    double refill = (double) elapsedNanos * quantity / periodNanos;
    return (long) Math.floor((capacity + refill) / cost);
  }

  /** Smallest acceptable {@code Retry-After} for a refusal {@code elapsedNanos} after the start. */
  public long retryAfterMin(long elapsedNanos) {
    double t = elapsedNanos / 1e9;
    double wait = slidingWindow ? periodSeconds - t
        : (cost - capacity % cost) * (double) periodSeconds / quantity - t;
    return Math.max(1, (long) Math.ceil(wait) - 1);
  }

  /** Largest acceptable {@code Retry-After}. */
  public long retryAfterMax() {
    double wait = slidingWindow ? periodSeconds : cost * (double) periodSeconds / quantity;
    return Math.max(1, (long) Math.ceil(wait)) + 1;
  }
}
