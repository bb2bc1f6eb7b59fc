package dev.sluice.match;

/** Normalises request targets to the path the upstream framework will route. Stub being implemented. */
public final class PathNormalizer {
  private PathNormalizer() {}

  /**
   * Returns the normalised path of a request target (query string removed).
   *
   * @throws MalformedTargetException when the target cannot be normalised (answered with 400)
   */
  public static String normalize(String requestTarget) {
    throw new IllegalStateException("PathNormalizer.normalize is being implemented");
  }
}
