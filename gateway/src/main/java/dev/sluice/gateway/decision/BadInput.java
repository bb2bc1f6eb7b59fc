package dev.sluice.gateway.decision;

/**
 * A decision API request the service cannot use: answered {@code 400} problem+json whose detail
 * starts with the offending field ({@code path: ...}). Carries no stack trace (it is an answer,
 * not a failure).
 */
final class BadInput extends Exception {
  private final String field;

  BadInput(String field, String message) {
    super(field + ": " + message, null, false, false);
    this.field = field;
  }

  /** The JSON field at fault ({@code identities.user}); {@code "request"} for the whole body. */
  String field() {
    return field;
  }
}
