package dev.sluice.store;

/**
 * A store refused to record a new offence record or a new penalty ban because the issuing
 * policy's share of the table is full of live ones. Nothing held was evicted to make room: the
 * offences and bans of other identities stay as they were. The engine then answers the request as
 * an ordinary {@code 429} (the identity stays rate-limited, only not banned), and the store counts
 * the refusal ({@code sluice_penalties_refused_total}).
 *
 * <p>Shared per policy and thrown without a stack trace, so a flood of trips costs no allocation.
 */
public final class PenaltyRefusedException extends StoreException {
  private static final long serialVersionUID = 1L;

  private final String policy;

  /**
   * @param policy the policy whose share is full
   * @param what what was refused, plural ("penalty bans", "offence records")
   * @param share the size of the share
   */
  public PenaltyRefusedException(String policy, String what, long share) {
    super("policy \"" + policy + "\" already holds its share of " + share + " live " + what
        + "; nothing is evicted to make room, so this one is not recorded");
    this.policy = policy;
  }

  /** The policy whose share is full. */
  public String policy() {
    return policy;
  }

  @Override
  public synchronized Throwable fillInStackTrace() {
    return this;
  }
}
