package dev.sluice.limit;

import dev.sluice.time.DurationText;
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

  /**
   * The longest period a limit may have: 104 days. The Redis script computes in Lua numbers
   * (doubles), exact only below 2<sup>53</sup> ns (about 104.2 days); one bound for both stores
   * means a file that runs on one runs on the other.
   */
  public static final long MAX_PERIOD_NANOS = 104L * 86_400_000_000_000L;
  /**
   * The largest bucket a GCRA limit may hold, {@code burst × period / N} in nanoseconds:
   * 2<sup>53</sup> − 1 (about 104.2 days), for the same reason. Every Retry-After is at most this
   * (a sliding window's at most its period).
   */
  public static final long MAX_CAPACITY_NANOS = (1L << 53) - 1;
  /**
   * The shortest time between two tokens, {@code period / N}: one microsecond (at most a million
   * tokens a second, far more than one gateway decides). It also keeps the rounding of the
   * interval to whole nanoseconds below 0.1% of the rate.
   */
  public static final long MIN_INTERVAL_NANOS = 1_000;
  /** The longest limit text the parser reads; limits are short ({@code "10/15 minutes burst 20"}). */
  public static final int MAX_TEXT_LENGTH = 100;

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
      text = periodNanos % 1_000_000_000L == 0
          ? LimitParser.format(quantity, periodNanos, burst)
          : quantity + "/" + DurationText.format(Duration.ofNanos(periodNanos));
    }
  }

  /**
   * Whether the engine can decide this limit exactly on every store: the period is at most
   * {@link #MAX_PERIOD_NANOS}, at most one token a {@link #MIN_INTERVAL_NANOS microsecond}, and
   * the bucket ({@code burst × period / N}) at most {@link #MAX_CAPACITY_NANOS}. The parser
   * enforces these with positioned errors; the policy builder checks limits made in code.
   *
   * @return empty when within bounds, else what is wrong and the bound (a sentence without the
   *     limit's text)
   */
  public java.util.Optional<String> boundsProblem() {
    return java.util.Optional.ofNullable(LimitMessages.boundsProblem(this));
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
