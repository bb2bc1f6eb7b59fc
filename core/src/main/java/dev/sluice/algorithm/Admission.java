package dev.sluice.algorithm;

/**
 * The verdict of a multi-limit step ({@link Gcra#consumeAll}, {@link SlidingWindow#consumeAll}):
 * admitted by every limit, or refused with the limit that refused and when to retry.
 *
 * @param deniedLimit index of the limit that denied (the one needing the longest wait), or -1
 * @param retryAfterNanos when denied, nanoseconds after which the same request is admitted
 *     (exact: at {@code now + retryAfterNanos} it conforms, one nanosecond earlier it does not,
 *     provided nothing else consumes meanwhile); 0 when admitted
 */
public record Admission(int deniedLimit, long retryAfterNanos) {

  /** The shared instance for an admitted request (keeps the hot path allocation-free). */
  public static final Admission ADMITTED = new Admission(-1, 0);

  public Admission {
    if (deniedLimit < -1) {
      throw new IllegalArgumentException("deniedLimit must be -1 or an index, got " + deniedLimit);
    }
    if ((deniedLimit == -1) != (retryAfterNanos == 0) || retryAfterNanos < 0) {
      throw new IllegalArgumentException(
          "an admission has retryAfterNanos 0 and a denial a positive one, got deniedLimit "
              + deniedLimit + " and retryAfterNanos " + retryAfterNanos);
    }
  }

  /** Whether the tokens were consumed from every limit. */
  public boolean allowed() {
    return deniedLimit < 0;
  }
}
