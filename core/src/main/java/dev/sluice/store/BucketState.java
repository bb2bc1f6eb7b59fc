package dev.sluice.store;

import java.util.Objects;

/**
 * One memory-store bucket as a snapshot holds it ({@link MemorySnapshot}), with times relative to
 * the moment it was exported, so a restore in another process (another clock origin) means the
 * same thing.
 *
 * @param policy the policy name
 * @param identity the identity key
 * @param spec the limits its state counts for (a restored bucket whose policy changed meanwhile is
 *     carried over to the new limits on first use, as after a reload)
 * @param debts GCRA: per limit, nanoseconds until it is full again (0 = full); null for the sliding
 *     window
 * @param ages sliding window: per limit, the age in nanoseconds of each admission it holds, oldest
 *     first; null for GCRA
 */
public record BucketState(String policy, String identity, BucketSpec spec, long[] debts, long[][] ages) {
  public BucketState {
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(spec, "spec");
    if ((debts == null) == (ages == null) || (debts != null ? debts.length : ages.length) != spec.limits().size()) {
      throw new IllegalArgumentException("a bucket state needs one debt (GCRA) or one log (window) per limit");
    }
  }

  /**
   * One key's offences (SPEC §7 escalation), ages relative to the export.
   *
   * @param key the offence key ({@code <policy>|<identity>})
   * @param windowNanos how long an offence is remembered
   * @param ages the age of each offence in nanoseconds, oldest first
   */
  public record Offences(String key, long windowNanos, long[] ages) {
    public Offences {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(ages, "ages");
    }
  }
}
