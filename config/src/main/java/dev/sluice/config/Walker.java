package dev.sluice.config;

import java.math.BigInteger;
import java.net.IDN;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Walks a composed YAML node tree by hand and types its values, collecting every problem with its
 * position instead of stopping at the first. Typed readers return {@code null} after reporting a
 * problem, so callers skip dependent checks instead of piling up follow-on errors.
 *
 * <p>Every node visited is remembered under its config path ({@code policies[2].cost}) so errors
 * the core builders report by path can be placed on the right node afterwards.
 */
final class Walker {
  private static final Pattern DURATION = Pattern.compile("([0-9]{1,12})(ms|s|m|h|d)");
  private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9][0-9_]*");
  private static final Pattern HOST_NAME =
      Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\\.?");

  private final String file;
  private final List<ConfigError> errors = new ArrayList<>();
  private final Map<String, Node> nodes = new HashMap<>();

  Walker(String file) {
    this.file = file;
  }

  List<ConfigError> errors() {
    return errors;
  }

  boolean hasErrors() {
    return !errors.isEmpty();
  }

  // ---- positions ----

  void error(Node node, String message) {
    errorAt(node.getStartMark(), 0, message);
  }

  /**
   * An error at {@code offset} characters into a scalar's text. The offset is only applied when the
   * scalar's source text is exactly its value on one line (plain, or quoted without escapes);
   * otherwise the error points at the scalar's start, which is still the right node.
   */
  void errorInScalar(Node node, int offset, String message) {
    errorAt(node.getStartMark(), contentOffset(node, offset), message);
  }

  void errorAt(Mark mark, int columnOffset, String message) {
    if (mark == null) {
      errors.add(new ConfigError(file, 1, 1, message));
    } else {
      errors.add(new ConfigError(file, mark.getLine() + 1, mark.getColumn() + 1 + columnOffset, message));
    }
  }

  void errorAtLine(int line, int column, String message) {
    errors.add(new ConfigError(file, Math.max(1, line), Math.max(1, column), message));
  }

  private static int contentOffset(Node node, int offset) {
    if (!(node instanceof ScalarNode scalar) || offset < 0) {
      return 0;
    }
    Mark start = scalar.getStartMark();
    Mark end = scalar.getEndMark();
    if (start == null || end == null || start.getLine() != end.getLine()) {
      return 0;
    }
    int width = end.getColumn() - start.getColumn();
    int length = scalar.getValue().length();
    DumperOptions.ScalarStyle style = scalar.getScalarStyle();
    if (style == DumperOptions.ScalarStyle.PLAIN && width == length) {
      return Math.min(offset, length);
    }
    if ((style == DumperOptions.ScalarStyle.SINGLE_QUOTED
            || style == DumperOptions.ScalarStyle.DOUBLE_QUOTED)
        && width == length + 2) {
      return 1 + Math.min(offset, length);
    }
    return 0;
  }

  // ---- path bookkeeping ----

  void remember(String path, Node node) {
    nodes.putIfAbsent(path, node);
  }

  /**
   * The node for a config path reported by the core, or for its nearest remembered ancestor
   * ({@code policies[2].limits[5]} falls back to {@code policies[2].limits}, then {@code
   * policies[2]}).
   */
  Node nodeFor(String path, Node fallback) {
    String p = path;
    while (!p.isEmpty()) {
      Node n = nodes.get(p);
      if (n != null) {
        return n;
      }
      int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      p = cut <= 0 ? "" : p.substring(0, cut);
    }
    return fallback;
  }

  // ---- structure ----

  /**
   * The fields of a mapping, in file order. Reports a non-mapping value, duplicate keys and unknown
   * keys (with a suggestion).
   *
   * @return the fields, or {@code null} when {@code node} is not a mapping
   */
  Fields fields(Node node, String path, List<String> known) {
    if (!(node instanceof MappingNode mapping)) {
      error(node, Messages.wrongType(path.isEmpty() ? "the policy file" : path, "a mapping", describe(node)));
      return null;
    }
    remember(path, node);
    Map<String, NodeTuple> byKey = new LinkedHashMap<>();
    for (NodeTuple tuple : mapping.getValue()) {
      Node keyNode = tuple.getKeyNode();
      if (!(keyNode instanceof ScalarNode scalarKey) || keyNode.getTag().equals(Tag.NULL)) {
        error(keyNode, Messages.nonScalarKey(path));
        continue;
      }
      String key = scalarKey.getValue();
      NodeTuple first = byKey.get(key);
      if (first != null) {
        error(keyNode, Messages.duplicateKey(path, key, first.getKeyNode().getStartMark().getLine() + 1));
        continue;
      }
      byKey.put(key, tuple);
      if (!known.contains(key)) {
        error(keyNode, Messages.unknownKey(path, key, known));
      }
    }
    Map<String, Node> values = new LinkedHashMap<>();
    byKey.forEach((key, tuple) -> {
      if (known.contains(key)) {
        values.put(key, tuple.getValueNode());
        remember(child(path, key), tuple.getValueNode());
      }
    });
    return new Fields(path, node, values);
  }

  static String child(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  /** The entries of a sequence, or {@code null} (reported) when the node is not one. */
  List<Node> sequence(Node node, String path) {
    if (node instanceof SequenceNode seq) {
      List<Node> items = seq.getValue();
      for (int i = 0; i < items.size(); i++) {
        remember(path + "[" + i + "]", items.get(i));
      }
      return items;
    }
    error(node, Messages.wrongType(path, "a list", describe(node)));
    return null;
  }

  /** A list, or a single scalar taken as a list of one (e.g. {@code by: ip}). */
  List<Node> oneOrMany(Node node, String path) {
    if (node instanceof ScalarNode && !isNull(node)) {
      remember(path + "[0]", node);
      return List.of(node);
    }
    if (node instanceof SequenceNode) {
      return sequence(node, path);
    }
    error(node, Messages.wrongType(path, "a value or a list of values", describe(node)));
    return null;
  }

  // ---- scalars ----

  /** A non-null scalar's text; numbers and booleans are taken as written. */
  String string(Node node, String path) {
    if (node instanceof ScalarNode scalar && !isNull(node)) {
      return scalar.getValue();
    }
    error(node, Messages.wrongType(path, "a string", describe(node)));
    return null;
  }

  /** A string that is not blank. */
  String nonBlank(Node node, String path) {
    String s = string(node, path);
    if (s != null && s.isBlank()) {
      error(node, Messages.blank(path));
      return null;
    }
    return s;
  }

  Long integer(Node node, String path, long min, long max) {
    if (!(node instanceof ScalarNode scalar) || isNull(node)) {
      error(node, Messages.wrongType(path, "a whole number", describe(node)));
      return null;
    }
    // Quoted numbers ("5") are accepted: the intent is unambiguous and rejecting them helps no one.
    String text = scalar.getValue().strip();
    if (!INTEGER.matcher(text).matches()) {
      error(node, Messages.badInteger(path, text, min, max));
      return null;
    }
    BigInteger value = new BigInteger(text.replace("_", "").replace("+", ""));
    if (value.compareTo(BigInteger.valueOf(min)) < 0 || value.compareTo(BigInteger.valueOf(max)) > 0) {
      error(node, Messages.integerOutOfRange(path, text, min, max));
      return null;
    }
    return value.longValueExact();
  }

  /** The longest duration any field takes unless it names a shorter bound: one year. */
  static final Duration MAX_DURATION = Duration.ofDays(365);

  /** {@code 50ms}, {@code 30s}, {@code 15m}, {@code 24h}, {@code 7d}; positive, at most {@link #MAX_DURATION}. */
  Duration duration(Node node, String path) {
    return duration(node, path, MAX_DURATION);
  }

  /**
   * {@code 50ms}, {@code 30s}, {@code 15m}, {@code 24h}, {@code 7d}; positive and at most {@code
   * max}, so no duration reaches the long-nanosecond overflow of the code that uses it.
   */
  Duration duration(Node node, String path, Duration max) {
    Duration d = parseDuration(node, path);
    if (d != null && d.compareTo(max) > 0) {
      error(node, Messages.durationTooLong(path, ((ScalarNode) node).getValue().trim(), max));
      return null;
    }
    return d;
  }

  private Duration parseDuration(Node node, String path) {
    String text = string(node, path);
    if (text == null) {
      return null;
    }
    Matcher m = DURATION.matcher(text.trim());
    if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
      error(node, Messages.badDuration(path, text));
      return null;
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }

  /**
   * {@code host:port} or {@code [ipv6]:port}; port 0..65535 (0 = any free port). IP literals are
   * taken as is; host names are resolved now, so a typo fails at load rather than at bind.
   */
  InetSocketAddress address(Node node, String path) {
    String text = string(node, path);
    if (text == null) {
      return null;
    }
    String host;
    String portText;
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
        error(node, Messages.badAddress(path, text, "an IPv6 address must be written [address]:port"));
        return null;
      }
      host = text.substring(1, close);
      portText = text.substring(close + 2);
    } else {
      int colon = text.lastIndexOf(':');
      if (colon < 0) {
        error(node, Messages.badAddress(path, text, "no port"));
        return null;
      }
      host = text.substring(0, colon);
      portText = text.substring(colon + 1);
      if (host.indexOf(':') >= 0) {
        error(node, Messages.badAddress(path, text, "an IPv6 address must be written [address]:port"));
        return null;
      }
    }
    if (host.isEmpty()) {
      errorInScalar(node, 0, Messages.badAddress(path, text, "no host"));
      return null;
    }
    if (!portText.matches("[0-9]{1,5}") || Integer.parseInt(portText) > 65535) {
      errorInScalar(node, text.length() - portText.length(),
          Messages.badAddress(path, text, "port " + Messages.quote(portText) + " is not a number from 0 to 65535"));
      return null;
    }
    int port = Integer.parseInt(portText);
    if (!isIpLiteral(host) && !HOST_NAME.matcher(host).matches()) {
      errorInScalar(node, 0, Messages.badAddress(path, text, "host " + Messages.quote(host) + " is not a valid host name or IP address"));
      return null;
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host), port);
    } catch (UnknownHostException | SecurityException e) {
      errorInScalar(node, 0, Messages.badAddress(path, text, "host " + Messages.quote(host) + " does not resolve"));
      return null;
    }
  }

  private static boolean isIpLiteral(String host) {
    if (host.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")) {
      for (String part : host.split("\\.")) {
        if (Integer.parseInt(part) > 255) {
          return false;
        }
      }
      return true;
    }
    return host.indexOf(':') >= 0 && host.matches("[0-9A-Fa-f:.]+");
  }

  /**
   * An absolute URL with one of {@code schemes}, a host, and no user info, query or fragment.
   *
   * @param expected how to describe a valid value, e.g. {@code an http:// URL}
   */
  URI url(Node node, String path, Set<String> schemes, String expected, boolean pathAllowed) {
    String text = string(node, path);
    if (text == null) {
      return null;
    }
    URI uri;
    try {
      uri = new URI(text.trim());
    } catch (URISyntaxException e) {
      errorInScalar(node, Math.max(0, e.getIndex()), Messages.badUrl(path, text, e.getReason(), expected));
      return null;
    }
    String problem = null;
    if (uri.getScheme() == null || !schemes.contains(uri.getScheme().toLowerCase(java.util.Locale.ROOT))) {
      problem = uri.getScheme() == null ? "no scheme" : "scheme " + Messages.quote(uri.getScheme()) + " is not supported";
    } else if (uri.getHost() == null) {
      problem = "no host";
    } else if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      problem = "a query or fragment is not allowed";
    } else if (!pathAllowed && uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/")) {
      problem = "a path is not supported";
    } else if (uri.getPort() > 65535) {
      problem = "port " + uri.getPort() + " is out of range";
    }
    if (problem != null) {
      error(node, Messages.badUrl(path, text, problem, expected));
      return null;
    }
    // IDN.toASCII only validates here; the URI keeps the host as written.
    try {
      IDN.toASCII(uri.getHost());
    } catch (IllegalArgumentException e) {
      error(node, Messages.badUrl(path, text, "bad host", expected));
      return null;
    }
    return uri;
  }

  /** One of a fixed set of names, with "did you mean" for near misses. */
  <E> E choice(Node node, String path, Map<String, E> byName) {
    String text = string(node, path);
    if (text == null) {
      return null;
    }
    E value = byName.get(text);
    if (value == null) {
      error(node, Messages.badEnum(path, text, byName.keySet()));
    }
    return value;
  }

  /** The names {@link #choice} accepts for an enum: each constant under its config name, in order. */
  static <E> Map<String, E> byName(E[] values, Function<E, String> name) {
    Map<String, E> map = new LinkedHashMap<>();
    for (E e : values) {
      map.put(name.apply(e), e);
    }
    return map;
  }

  static boolean isNull(Node node) {
    return node instanceof ScalarNode && Tag.NULL.equals(node.getTag());
  }

  /** How a value looks, for "expected X, got Y" messages. */
  static String describe(Node node) {
    if (node == null) {
      return "nothing";
    }
    if (node instanceof MappingNode) {
      return "a mapping";
    }
    if (node instanceof SequenceNode) {
      return "a list";
    }
    if (isNull(node)) {
      return "nothing (an empty value)";
    }
    String value = ((ScalarNode) node).getValue();
    if (value.length() > 60) {
      value = value.substring(0, 57) + "...";
    }
    return Messages.quote(value);
  }

  /**
   * The known fields of one mapping, in file order; reading a field remembers nothing more (the
   * walker already remembered every field's path).
   */
  static final class Fields {
    private final String path;
    private final Node node;
    private final Map<String, Node> values;

    Fields(String path, Node node, Map<String, Node> values) {
      this.path = path;
      this.node = node;
      this.values = values;
    }

    /** The mapping node itself, where "X is required" errors point. */
    Node node() {
      return node;
    }

    String path() {
      return path;
    }

    String pathOf(String key) {
      return child(path, key);
    }

    /** The value of {@code key}, or {@code null} when it is absent. */
    Node get(String key) {
      return values.get(key);
    }

    boolean has(String key) {
      return values.containsKey(key);
    }
  }
}
