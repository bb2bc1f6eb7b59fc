package dev.sluice.match;

/** A request target that cannot be normalised: bad percent-encoding, {@code ..} above the root, … */
public final class MalformedTargetException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public MalformedTargetException(String message) {
    super(message);
  }
}
