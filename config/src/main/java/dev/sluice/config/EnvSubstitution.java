package dev.sluice.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Environment substitution in scalar values (SPEC §9, "one file for every environment"):
 * {@code ${VAR}} is the variable's value, {@code ${VAR:-default}} the default when the variable is
 * unset or empty, and {@code $$} a literal {@code $}. Keys are never substituted.
 *
 * <p>It runs on the composed node tree, before the sections are read: each substituted scalar is
 * replaced by a new scalar with the same start and end marks, so every later error about its value
 * still points at the value's {@code line:column} in the file. Errors inside a reference (bad name,
 * no closing brace, unset variable) point at the {@code $} itself.
 *
 * <p>A variable that is unset and has no default is an error when {@code strict} ({@code sluice
 * serve}, a reload) and a warning otherwise ({@code sluice check}, which validates a file without
 * the environment it will run in); the reference then stays as written.
 *
 * <p>{@link #effective(String)} renders the file as it was read after substitution, for {@code
 * sluice check --print-effective}, with secrets masked: the values of variables whose name says
 * secret (SECRET, TOKEN, PASSWORD, PASSWD, KEY, CREDENTIAL), passwords in URLs, and the entries of
 * {@code api_keys} lists.
 */
final class EnvSubstitution {
  static final String MASK = "****";
  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern SECRET_NAME =
      Pattern.compile(".*(SECRET|TOKEN|PASSWORD|PASSWD|KEY|CREDENTIAL).*");
  private static final Pattern URL_PASSWORD = Pattern.compile("(://[^/@:]*:)([^/@]*)(@)");

  /** One span of the source text and what the effective file shows there. */
  private record Splice(int start, int end, String text) {}

  private final Walker w;
  private final Function<String, String> env;
  private final boolean strict;
  private final List<String> warnings = new ArrayList<>();
  private final List<Splice> splices = new ArrayList<>();

  EnvSubstitution(Walker w, Function<String, String> env, boolean strict) {
    this.w = w;
    this.env = env;
    this.strict = strict;
  }

  /** Warnings (unset variables under {@code check}), one sentence each. */
  List<String> warnings() {
    return warnings;
  }

  /** Substitutes every scalar value under {@code root}; returns the (possibly new) root. */
  Node apply(Node root) {
    return visit(root, false);
  }

  private Node visit(Node node, boolean secret) {
    if (node instanceof ScalarNode scalar) {
      return substitute(scalar, secret);
    }
    if (node instanceof SequenceNode seq) {
      List<Node> items = seq.getValue();
      for (int i = 0; i < items.size(); i++) {
        items.set(i, visit(items.get(i), secret));
      }
    } else if (node instanceof MappingNode map) {
      List<NodeTuple> tuples = map.getValue();
      for (int i = 0; i < tuples.size(); i++) {
        NodeTuple t = tuples.get(i);
        boolean secretValue = t.getKeyNode() instanceof ScalarNode key && "api_keys".equals(key.getValue());
        Node value = visit(t.getValueNode(), secretValue);
        if (value != t.getValueNode()) {
          tuples.set(i, new NodeTuple(t.getKeyNode(), value));
        }
      }
    }
    return node;
  }

  private Node substitute(ScalarNode scalar, boolean secret) {
    String text = scalar.getValue();
    if (Tag.NULL.equals(scalar.getTag())) {
      return scalar;
    }
    if (text.indexOf('$') < 0) {
      if (secret) {
        splice(scalar, MASK);
      }
      return scalar;
    }
    StringBuilder value = new StringBuilder(text.length());
    StringBuilder shown = new StringBuilder(text.length());
    boolean changed = false;
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c != '$' || i + 1 >= text.length() || (text.charAt(i + 1) != '{' && text.charAt(i + 1) != '$')) {
        value.append(c);
        shown.append(c);
        i++;
        continue;
      }
      if (text.charAt(i + 1) == '$') {
        value.append('$');
        shown.append('$');
        changed = true;
        i += 2;
        continue;
      }
      int close = text.indexOf('}', i + 2);
      if (close < 0) {
        w.errorInScalar(scalar, i, Messages.unclosedReference(text.substring(i)));
        return scalar;
      }
      String body = text.substring(i + 2, close);
      int dash = body.indexOf(":-");
      String name = dash < 0 ? body : body.substring(0, dash);
      String fallback = dash < 0 ? null : body.substring(dash + 2);
      if (!NAME.matcher(name).matches()) {
        w.errorInScalar(scalar, i, Messages.badReference(text.substring(i, close + 1)));
        return scalar;
      }
      String found = env.apply(name);
      String replacement = found != null && !found.isEmpty() ? found : fallback;
      if (replacement == null) {
        if (strict) {
          w.errorInScalar(scalar, i, Messages.unsetVariable(name));
          return scalar;
        }
        warnings.add(Messages.unsetVariableWarning(name, position(scalar)));
        replacement = text.substring(i, close + 1);
      }
      value.append(replacement);
      boolean secretVariable = SECRET_NAME.matcher(name.toUpperCase(Locale.ROOT)).matches();
      shown.append(secretVariable && found != null ? MASK : replacement);
      changed = true;
      i = close + 1;
    }
    String result = value.toString();
    if (secret) {
      splice(scalar, MASK);
    } else if (changed) {
      splice(scalar, URL_PASSWORD.matcher(shown.toString()).replaceAll("$1" + MASK + "$3"));
    }
    if (!changed) {
      return scalar;
    }
    return new ScalarNode(Tag.STR, result, scalar.getStartMark(), scalar.getEndMark(),
        DumperOptions.ScalarStyle.DOUBLE_QUOTED);
  }

  private static String position(Node node) {
    return "line " + (node.getStartMark().getLine() + 1) + ", column " + (node.getStartMark().getColumn() + 1);
  }

  private void splice(ScalarNode scalar, String text) {
    if (scalar.getStartMark() == null || scalar.getEndMark() == null) {
      return;
    }
    splices.add(new Splice(scalar.getStartMark().getIndex(), scalar.getEndMark().getIndex(), quote(text)));
  }

  /**
   * The source text with every substituted scalar replaced by its value (masked where secret),
   * double-quoted; comments, order and layout kept. URLs written without a variable keep their
   * text, but their password is masked too.
   */
  String effective(String source) {
    int[] codePoints = source.codePoints().toArray();
    StringBuilder out = new StringBuilder(source.length());
    int at = 0;
    List<Splice> sorted = new ArrayList<>(splices);
    sorted.sort((a, b) -> Integer.compare(a.start, b.start));
    for (Splice s : sorted) {
      if (s.start < at || s.end > codePoints.length) {
        continue;
      }
      out.append(new String(codePoints, at, s.start - at));
      out.append(s.text);
      at = s.end;
    }
    out.append(new String(codePoints, at, codePoints.length - at));
    return URL_PASSWORD.matcher(out.toString()).replaceAll("$1" + MASK + "$3");
  }

  private static String quote(String text) {
    StringBuilder sb = new StringBuilder(text.length() + 2).append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        default -> sb.append(c);
      }
    }
    return sb.append('"').toString();
  }
}
