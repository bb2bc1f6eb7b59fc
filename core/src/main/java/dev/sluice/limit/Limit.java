package dev.sluice.limit;

import java.time.Duration;

/**
 * One limit: {@code quantity} tokens per {@code periodNanos}, with a bucket capacity of
 * {@code burst} tokens (the default burst is the quantity). Immutable and validated on creation.
 *
 * @param quantity N, tokens refilled per period (positive)
 * @param periodNanos the period in nanoseconds (positive)
 * @param burst B, the bucket capacity (positive)
 * @param text the limit as the user wrote it (e.g. {@code "10/second burst 20"}), for messages
 */
public record Limit(long quantity, long periodNanos, long burst, String text) {

  public Limit {
    if (quantity <= 0) {
      throw LimitMessages.quantityNotPositive(quantity);
    }
    if (periodNanos <= 0) {
      throw LimitMessages.periodNotPositive(periodNanos);
    }
    if (burst <= 0) {
      throw LimitMessages.burstNotPositive(burst);
    }
    if (text == null) {
      text = quantity + "/" + Duration.ofNanos(periodNanos);
    }
  }

  /** A limit of {@code quantity} per {@code period} whose burst equals its quantity. */
  public static Limit of(long quantity, Duration period) {
    return new Limit(quantity, period.toNanos(), quantity, null);
  }

  /**
   * Nanoseconds between two tokens, {@code ceil(period / quantity)}. Rounding up keeps every
   * guarantee conservative: never more than {@code burst + floor(t * N / period)} are admitted.
   */
  public long emissionIntervalNanos() {
    long q = periodNanos / quantity;
    return q * quantity == periodNanos ? q : q + 1;
  }

  /**
   * Parses a limit as written in the policy file; see {@link LimitParser#parse(String)}.
   *
   * @throws LimitSyntaxException when the text does not follow the limit grammar
   */
  public static Limit parse(String text) {
    return LimitParser.parse(text);
  }

  /** The period as a {@link Duration}. */
  public Duration period() {
    return Duration.ofNanos(periodNanos);
  }
}
