package dev.sluice.config;

import dev.sluice.policy.PolicyConfigException;
import java.util.function.Supplier;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Runs the core builders' steps for the section readers and maps their errors to positions: the
 * core names what is wrong by config path, the walker knows where that path was written.
 */
final class CoreSteps {
  private CoreSteps() {}

  /**
   * Runs a core builder step, mapping its error to a position: a {@link PolicyConfigException}
   * to the node of its config path (relative paths are placed under {@code base}); any other
   * {@link IllegalArgumentException} to {@code at}.
   *
   * @return the step's result, or {@code null} after reporting its error
   */
  static <T> T get(Walker w, Node at, String base, Supplier<T> step) {
    try {
      return step.get();
    } catch (PolicyConfigException e) {
      String full = e.path().startsWith("policies[") || e.path().startsWith("defaults")
          || e.path().startsWith("exempt") || e.path().startsWith("block") || e.path().startsWith("clients") || e.path().startsWith("store")
          || base.isEmpty()
          ? e.path()
          : (e.path().isEmpty() ? base : base + "." + e.path());
      w.error(w.nodeFor(full, at), e.getMessage());
      return null;
    } catch (IllegalArgumentException e) {
      w.error(at, base.isEmpty() ? e.getMessage() : Messages.prefixed(base, e.getMessage()));
      return null;
    }
  }

  /** {@link #get} for a step without a result. */
  static void run(Walker w, Node at, String base, Runnable step) {
    get(w, at, base, () -> {
      step.run();
      return Boolean.TRUE;
    });
  }
}
