package dev.sluice.store;

import java.util.Objects;

/**
 * Names one bucket: a policy and one identity value under it. Secret identity values (API keys,
 * sessions) arrive here already hashed, so a store never holds a raw secret.
 *
 * @param policy the policy name
 * @param identity the identity as {@code kind:value}, e.g. {@code ip:203.0.113.7}
 */
public record BucketKey(String policy, String identity) {
  public BucketKey {
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(identity, "identity");
  }
}
