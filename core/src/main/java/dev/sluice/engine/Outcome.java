package dev.sluice.engine;

/** What happens to a request as a whole. */
public enum Outcome {
  /** Forward to the upstream: every enforced policy allowed it (or none applied). */
  ALLOWED,
  /** Answer {@code 429 Too Many Requests}: at least one enforced policy denied it. */
  LIMITED,
  /** Forward without limiting: the client address or API key is exempt. */
  EXEMPT,
  /**
   * Answer {@code 503 Service Unavailable} with {@code Retry-After: 1}: the store failed for an
   * enforced policy whose {@code on_error} is {@code deny}, and no enforced policy denied it.
   */
  UNAVAILABLE,
  /**
   * Answer {@code 429} with problem type {@code …#abnormal-usage-detected} and
   * {@code Retry-After} = the remaining ban: the identity is banned (SPEC §7), or this request
   * tripped a policy's {@code penalty} and got it banned. Metric outcome {@code blocked}.
   */
  BLOCKED,
  /**
   * Answer {@code 403 Forbidden} (problem+json): the client address or API key is listed in
   * {@code block:}. Checked before exemptions; no policy is decided.
   */
  FORBIDDEN
}
