package dev.sluice.store;

/**
 * The memory store refused to track a new identity: its policy's share of {@code store.max_keys}
 * (or the whole bound) is held by buckets that are not full yet, and none of them may be dropped
 * without giving its identity tokens back (see {@code docs/algorithms.md}, "Memory store bounds").
 * The engine answers the request {@code 503} with {@code Retry-After: 1} whatever the policy's
 * {@code on_error}: an identity the store cannot track is refused, never admitted unlimited (the
 * behaviour of nginx {@code limit_req} when its zone is full).
 *
 * <p>Thrown and failed stages carry one shared instance per policy without a stack trace, so a
 * flood of new keys against a full share costs no allocation.
 */
public final class StoreFullException extends StoreException {
  private static final long serialVersionUID = 1L;

  private final String policy;

  StoreFullException(String policy, long share) {
    super("the memory store holds its share of " + share + " buckets for policy \"" + policy
        + "\", none of them full yet; a new identity is refused until one refills");
    this.policy = policy;
  }

  /** The policy whose share is full. */
  public String policy() {
    return policy;
  }

  /** Shared and thrown often: no stack trace. */
  @Override
  public synchronized Throwable fillInStackTrace() {
    return this;
  }
}
