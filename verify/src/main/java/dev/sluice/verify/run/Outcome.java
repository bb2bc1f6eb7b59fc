package dev.sluice.verify.run;

import dev.sluice.verify.plan.Check;

/**
 * The result of one check.
 *
 * @param check the check
 * @param status proven, failed or not provable
 * @param detail for proven: what was seen; for failed: the evidence (expected vs got); for not
 *     provable: why
 * @param requests how many requests the check sent
 * @param seconds how long it ran
 */
public record Outcome(Check check, Status status, String detail, int requests, double seconds) {
  /** How a check ended. */
  public enum Status { PROVEN, FAILED, NOT_PROVABLE }
}
