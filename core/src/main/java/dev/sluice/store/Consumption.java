package dev.sluice.store;

import java.util.List;

/**
 * The outcome of one attempt to consume tokens from a bucket, with everything the HTTP layer needs
 * (like Bucket4j's {@code ConsumptionProbe}).
 *
 * @param allowed whether the tokens were consumed (from every limit) or not (from none)
 * @param deniedLimit index into the bucket's limits of the limit that denied, or -1 when allowed
 * @param retryAfterNanos when denied, nanoseconds until the same request would be admitted; else 0
 * @param limits the state of each limit after the decision, in the bucket's order
 */
public record Consumption(boolean allowed, int deniedLimit, long retryAfterNanos, List<LimitStatus> limits) {}
