package dev.sluice.limit;

import dev.sluice.time.DurationText;
import java.time.Duration;
import java.util.Objects;

/**
 * One limit: {@code quantity} tokens per {@code periodNanos}, with a bucket capacity of
 * {@code burst} tokens (the default burst is the quantity). Immutable and validated on creation.
 *
 * <p>A value class with a record's accessors, {@code equals}, {@code hashCode} and {@code toString}
 * over its four components. It is not a record because it also keeps the emission interval and the
 * bucket capacity, computed once: the GCRA step needs them on every decision, and recomputing
 * them (a long division and two saturated products) was a tenth of a hot-key decision.
 */
public final class Limit {

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
  /**
   * Where {@link #capacityNanos()} and {@link #saturatedProduct} saturate: 2<sup>61</sup> ns (about
   * 73 years). Only limits outside {@link #boundsProblem()} (made in code, never checked) reach it;
   * for them the capacity shrinks, which is conservative (see {@code Gcra}).
   */
  public static final long SATURATION_NANOS = 1L << 61;
  /** The longest limit text the parser reads; limits are short ({@code "10/15 minutes burst 20"}). */
  public static final int MAX_TEXT_LENGTH = 100;

  private final long quantity;
  private final long periodNanos;
  private final long burst;
  private final String text;
  private final long emissionIntervalNanos;
  private final long capacityNanos;

  /**
   * @param quantity N, tokens refilled per period (positive)
   * @param periodNanos the period in nanoseconds (positive)
   * @param burst B, the bucket capacity (positive)
   * @param text the limit as the user wrote it (e.g. {@code "10/second burst 20"}), for messages;
   *     {@code null} for a canonical text made from the numbers
   */
  public Limit(long quantity, long periodNanos, long burst, String text) {
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
    this.quantity = quantity;
    this.periodNanos = periodNanos;
    this.burst = burst;
    this.text = text;
    long q = periodNanos / quantity;
    this.emissionIntervalNanos = q * quantity == periodNanos ? q : q + 1;
    this.capacityNanos = saturatedProduct(burst, Math.min(emissionIntervalNanos, SATURATION_NANOS));
  }

  /** N, tokens refilled per period. */
  public long quantity() {
    return quantity;
  }

  /** The period in nanoseconds. */
  public long periodNanos() {
    return periodNanos;
  }

  /** B, the bucket capacity in tokens. */
  public long burst() {
    return burst;
  }

  /** The limit as the user wrote it, for messages. */
  public String text() {
    return text;
  }

  /**
   * The bucket capacity {@code burst × interval} in nanoseconds, saturated at {@link
   * #SATURATION_NANOS} (the GCRA's delay variation tolerance plus one interval).
   */
  public long capacityNanos() {
    return capacityNanos;
  }

  /** {@code a × b} for non-negative operands, or {@link #SATURATION_NANOS} when larger. */
  public static long saturatedProduct(long a, long b) {
    long high = Math.multiplyHigh(a, b);
    long low = a * b;
    if (high != 0 || low < 0 || low > SATURATION_NANOS) {
      return SATURATION_NANOS;
    }
    return low;
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
    return emissionIntervalNanos;
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

  @Override
  public boolean equals(Object other) {
    return other instanceof Limit l
        && l.quantity == quantity && l.periodNanos == periodNanos && l.burst == burst && l.text.equals(text);
  }

  @Override
  public int hashCode() {
    return Objects.hash(quantity, periodNanos, burst, text);
  }

  @Override
  public String toString() {
    return "Limit[quantity=" + quantity + ", periodNanos=" + periodNanos + ", burst=" + burst + ", text=" + text + "]";
  }
}
