package dev.sluice.store;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.Limit;
import java.util.List;
import java.util.Objects;

/**
 * The limits one bucket enforces together (all-or-none) and the algorithm that enforces them.
 *
 * @param algorithm how tokens are counted
 * @param limits at least one limit, in policy-file order
 */
public record BucketSpec(Algorithm algorithm, List<Limit> limits) {
  public BucketSpec {
    Objects.requireNonNull(algorithm, "algorithm");
    limits = List.copyOf(limits);
    if (limits.isEmpty()) {
      throw new IllegalArgumentException("a bucket needs at least one limit");
    }
  }
}
