package dev.sluice.config;

import dev.sluice.identity.Cidr;
import dev.sluice.identity.CidrSet;
import dev.sluice.limit.Limit;
import dev.sluice.limit.LimitParser;
import dev.sluice.limit.LimitSyntaxException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Typed lists that several sections share: names without duplicates, limits ({@code 100/minute})
 * and address ranges. Each takes one value or a list, reports every bad entry at its own node
 * ({@code path[i]}), and returns {@code null} when any entry was bad.
 */
final class ListValues {
  private ListValues() {}

  /** Non-blank strings, each once. */
  static List<String> strings(Walker w, Node node, String path) {
    List<Node> items = w.oneOrMany(node, path);
    if (items == null) {
      return null;
    }
    List<String> out = new ArrayList<>();
    Map<String, Node> seen = new HashMap<>();
    boolean ok = true;
    for (int i = 0; i < items.size(); i++) {
      String s = w.nonBlank(items.get(i), path + "[" + i + "]");
      if (s == null) {
        ok = false;
      } else if (seen.containsKey(s)) {
        w.error(items.get(i), Messages.duplicateEntry(path + "[" + i + "]", s,
            seen.get(s).getStartMark().getLine() + 1));
        ok = false;
      } else {
        seen.put(s, items.get(i));
        out.add(s);
      }
    }
    return ok ? out : null;
  }

  /** Limits in the core's grammar, at least one; a syntax error points into the scalar. */
  static List<Limit> limits(Walker w, Node node, String path) {
    List<Node> items = w.oneOrMany(node, path);
    if (items == null) {
      return null;
    }
    if (items.isEmpty()) {
      w.error(node, Messages.emptyList(path, "[\"100/minute\"]"));
      return null;
    }
    List<Limit> out = new ArrayList<>();
    boolean ok = true;
    for (int i = 0; i < items.size(); i++) {
      String itemPath = path + "[" + i + "]";
      String text = w.string(items.get(i), itemPath);
      if (text == null) {
        ok = false;
        continue;
      }
      try {
        out.add(LimitParser.parse(text));
      } catch (LimitSyntaxException e) {
        w.errorInScalar(items.get(i), e.column(), Messages.prefixed(itemPath, e.getMessage()));
        ok = false;
      } catch (IllegalArgumentException e) {
        w.error(items.get(i), Messages.prefixed(itemPath, e.getMessage()));
        ok = false;
      }
    }
    return ok ? out : null;
  }

  /** Addresses and CIDR ranges ({@code 10.0.0.0/8}, {@code 2001:db8::1}). */
  static CidrSet cidrs(Walker w, Node node, String path) {
    List<Node> items = w.oneOrMany(node, path);
    if (items == null) {
      return null;
    }
    List<Cidr> cidrs = new ArrayList<>();
    boolean ok = true;
    for (int i = 0; i < items.size(); i++) {
      String itemPath = path + "[" + i + "]";
      String text = w.nonBlank(items.get(i), itemPath);
      if (text == null) {
        ok = false;
        continue;
      }
      try {
        cidrs.add(Cidr.parse(text.strip()));
      } catch (IllegalArgumentException e) {
        w.error(items.get(i), Messages.prefixed(itemPath, e.getMessage()));
        ok = false;
      }
    }
    return ok ? CidrSet.of(cidrs) : null;
  }
}
