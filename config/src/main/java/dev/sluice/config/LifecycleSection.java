package dev.sluice.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Reads {@link LifecycleSettings} ({@code gateway.drain_grace}, {@code gateway.shutdown_timeout},
 * {@code store.snapshot}) from the already-checked {@code gateway} and {@code store} mappings; the
 * section readers have reported unknown keys and wrong shapes already.
 */
final class LifecycleSection {
  private LifecycleSection() {}

  /** The settings, or null after reporting an error. */
  static LifecycleSettings read(Walker w, Node gateway, Node store, Path baseDir) {
    int before = w.errors().size();
    Duration grace = LifecycleSettings.DEFAULT_DRAIN_GRACE;
    Node n = field(gateway, "drain_grace");
    if (n != null) {
      grace = isZero(n) ? Duration.ZERO : w.duration(n, "gateway.drain_grace");
    }
    Duration timeout = LifecycleSettings.DEFAULT_SHUTDOWN_TIMEOUT;
    n = field(gateway, "shutdown_timeout");
    if (n != null) {
      timeout = w.duration(n, "gateway.shutdown_timeout");
    }
    Optional<Path> snapshot = Optional.empty();
    n = field(store, "snapshot");
    if (n != null) {
      String text = w.nonBlank(n, "store.snapshot");
      if (text != null) {
        try {
          snapshot = Optional.of(baseDir.resolve(text).normalize());
        } catch (InvalidPathException e) {
          w.error(n, Messages.badSnapshotPath(text));
        }
      }
    }
    if (w.errors().size() != before || grace == null || timeout == null) {
      return null;
    }
    return new LifecycleSettings(grace, timeout, snapshot);
  }

  private static boolean isZero(Node node) {
    return node instanceof ScalarNode s && (s.getValue().strip().equals("0") || s.getValue().strip().equals("0s"));
  }

  private static Node field(Node mapping, String key) {
    if (!(mapping instanceof MappingNode map)) {
      return null;
    }
    for (NodeTuple t : map.getValue()) {
      if (t.getKeyNode() instanceof ScalarNode k && key.equals(k.getValue())) {
        return t.getValueNode();
      }
    }
    return null;
  }
}
