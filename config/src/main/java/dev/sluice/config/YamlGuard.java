package dev.sluice.config;

import java.io.StringReader;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.CollectionEndEvent;
import org.yaml.snakeyaml.events.CollectionStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.events.ScalarEvent;

/**
 * Bounds a policy file's YAML before it is composed, with every error at the offending node.
 *
 * <p>Why a pass over the parser's events: SnakeYAML's own guards ({@code maxAliasesForCollections},
 * {@code nestingDepthLimit}) throw without a position (the user saw {@code 1:1}), and counting
 * aliases is the wrong measure: an ordinary file with 60 policies sharing {@code match: *routes}
 * uses 60 aliases and is harmless, while a billion-laughs file needs only 81. What costs memory
 * and time is the <em>expanded</em> document (aliases share one node, but walking it visits every
 * copy), so that is what is bounded: at most {@link #MAX_VALUES} values once every alias is
 * expanded. Also: at most {@link #MAX_DEPTH} levels of nesting, no value longer than {@link
 * #MAX_SCALAR_CHARS} characters, and no alias inside the value it names (a cycle).
 *
 * <p>SnakeYAML's guards stay on, set above these bounds, as a second line. One instance per read.
 */
final class YamlGuard {
  /** The most values (scalars, lists and mappings) the document may have with aliases expanded. */
  static final int MAX_VALUES = 100_000;
  /** The deepest nesting of lists and mappings; a policy file needs fewer than ten levels. */
  static final int MAX_DEPTH = 64;
  /** The longest value or key; limits, paths, names and file names are short. */
  static final int MAX_SCALAR_CHARS = 4096;

  private final Walker w;
  /** Expanded size of every anchored value seen so far, by anchor name (a later anchor wins). */
  private final Map<String, Long> anchors = new HashMap<>();
  /** Open lists and mappings, innermost first. */
  private final Deque<Frame> open = new ArrayDeque<>();
  private long values;

  private YamlGuard(Walker w) {
    this.w = w;
  }

  private static final class Frame {
    final String anchor;
    long size = 1;

    Frame(String anchor) {
      this.anchor = anchor;
    }
  }

  /**
   * Parses {@code yaml} (events only, nothing is built) and reports bound violations to {@code w}.
   * Syntax errors are thrown as SnakeYAML reports them, for the caller to place.
   *
   * @return whether the document is within bounds
   */
  static boolean check(String yaml, LoaderOptions options, Walker w) {
    return new YamlGuard(w).run(yaml, options);
  }

  private boolean run(String yaml, LoaderOptions options) {
    boolean ok = true;
    for (Event event : new Yaml(options).parse(new StringReader(yaml))) {
      if (event instanceof ScalarEvent scalar) {
        if (scalar.getValue().length() > MAX_SCALAR_CHARS) {
          w.errorAt(event.getStartMark(), 0, Messages.scalarTooLong(scalar.getValue().length(), MAX_SCALAR_CHARS));
          ok = false;
        }
        if (!add(1, event, null)) {
          return false;
        }
        if (scalar.getAnchor() != null) {
          anchors.put(scalar.getAnchor(), 1L);
        }
      } else if (event instanceof CollectionStartEvent start) {
        if (open.size() >= MAX_DEPTH) {
          w.errorAt(event.getStartMark(), 0, Messages.tooDeep(MAX_DEPTH));
          return false;
        }
        if (!add(1, event, null)) {
          return false;
        }
        open.push(new Frame(start.getAnchor()));
      } else if (event instanceof CollectionEndEvent) {
        Frame done = open.pop();
        if (!open.isEmpty()) {
          open.peek().size += done.size;
        }
        if (done.anchor != null) {
          anchors.put(done.anchor, done.size);
        }
      } else if (event instanceof AliasEvent alias) {
        String name = alias.getAnchor();
        for (Frame f : open) {
          if (name != null && name.equals(f.anchor)) {
            w.errorAt(event.getStartMark(), 0, Messages.recursiveAlias(name));
            return false;
          }
        }
        // An undefined alias counts as one value; composing reports it with its position.
        long size = anchors.getOrDefault(name, 1L);
        if (!add(size, event, name)) {
          return false;
        }
      }
    }
    return ok;
  }

  /** Counts {@code size} more values in the document and in every open value. */
  private boolean add(long size, Event at, String alias) {
    values += size;
    if (!open.isEmpty()) {
      open.peek().size += size;
    }
    if (values > MAX_VALUES) {
      w.errorAt(at.getStartMark(), 0, alias != null
          ? Messages.aliasExpandsTooMuch(alias, size, MAX_VALUES)
          : Messages.tooManyValues(MAX_VALUES));
      return false;
    }
    return true;
  }
}
