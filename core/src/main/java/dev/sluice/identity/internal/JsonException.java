package dev.sluice.identity.internal;

/** Input that is not strict JSON (RFC 8259), with the offset where parsing stopped. */
public final class JsonException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int offset;

  JsonException(String message, int offset) {
    super(message + " at offset " + offset);
    this.offset = offset;
  }

  /** The 0-based character offset in the input where the problem is. */
  public int offset() {
    return offset;
  }
}
