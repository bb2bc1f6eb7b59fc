package dev.sluice.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Files the policy file names and the reader reads now ({@code keys_file}, {@code jwks_file}):
 * relative to the policy file's folder, bounded, regular files only; a problem is an error at the
 * node that names the file.
 */
final class ReferencedFiles {
  private final Walker w;
  private final Path baseDir;

  ReferencedFiles(Walker w, Path baseDir) {
    this.w = w;
    this.baseDir = baseDir;
  }

  /** The entries of a keys file (blank and {@code #} lines skipped), or {@code null} (reported). */
  List<String> keys(Node node, String path, String what, String expected) {
    String text = read(node, path, BoundedFiles.MAX_KEYS_BYTES);
    if (text == null) {
      return null;
    }
    List<String> keys = text.lines().map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    if (keys.isEmpty()) {
      w.error(node, Messages.prefixed(path, "the keys file lists no " + what + "; expected " + expected));
      return null;
    }
    return keys;
  }

  /** Reads a regular file of at most {@code maxBytes} named relative to the policy file's folder. */
  String read(Node node, String path, int maxBytes) {
    String name = w.nonBlank(node, path);
    if (name == null) {
      return null;
    }
    Path file;
    try {
      file = baseDir.resolve(name);
    } catch (InvalidPathException e) {
      w.error(node, Messages.cannotReadReferenced(path, name, "not a valid file name"));
      return null;
    }
    try {
      return BoundedFiles.readText(file, maxBytes);
    } catch (BoundedFiles.Unreadable e) {
      String problem = e.getMessage().equals("no such file") ? "no such file (looked for " + file + ")" : e.getMessage();
      w.error(node, Messages.cannotReadReferenced(path, name, problem));
    }
    return null;
  }
}
