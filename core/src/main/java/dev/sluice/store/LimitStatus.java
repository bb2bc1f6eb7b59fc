package dev.sluice.store;

/**
 * The state of one limit after a decision, as the HTTP layer reports it.
 *
 * @param remaining whole tokens left after this decision (never negative)
 * @param nanosToNextToken nanoseconds until one more token is available (0 when the bucket is full)
 * @param nanosToFull nanoseconds until the bucket is completely full again
 */
public record LimitStatus(long remaining, long nanosToNextToken, long nanosToFull) {}
