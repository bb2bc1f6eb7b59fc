package dev.sluice.verify.plan;

/** A concrete request line: a method and a path that the policy's route matches. */
public record Route(String method, String path) {
  @Override
  public String toString() {
    return method + " " + path;
  }
}
