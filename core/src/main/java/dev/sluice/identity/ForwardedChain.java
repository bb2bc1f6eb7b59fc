package dev.sluice.identity;

import dev.sluice.request.RequestView;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The addresses a forwarding header ({@code X-Forwarded-For}, {@code X-Real-IP}, RFC 7239
 * {@code Forwarded}) lists, left to right, for the trusted-proxy walk ({@link ProxyWalk}). Client
 * text: parsed strictly and without name resolution; an entry that cannot be used is {@code null},
 * never an exception.
 */
final class ForwardedChain {
  private ForwardedChain() {}

  /** The addresses of the configured header, left to right; {@code null} marks an unusable entry. */
  static List<InetAddress> of(RequestView request, IpHeader ipHeader) {
    List<String> lines = request.headers(ipHeader.headerName());
    List<InetAddress> chain = new ArrayList<>();
    switch (ipHeader) {
      case X_FORWARDED_FOR -> {
        for (String line : lines) {
          for (String entry : line.split(",", -1)) {
            chain.add(parseNode(entry.strip(), false));
          }
        }
      }
      case X_REAL_IP -> {
        if (lines.size() == 1) {
          chain.add(lines.get(0).indexOf(',') >= 0 ? null : parseNode(lines.get(0).strip(), false));
        } else if (lines.size() > 1) {
          chain.add(null); // several X-Real-IP lines: ambiguous, believe none
        }
      }
      case FORWARDED -> {
        for (String line : lines) {
          for (String element : splitOutsideQuotes(line, ',')) {
            chain.add(forwardedFor(element));
          }
        }
      }
      default -> throw new IllegalStateException("no header for " + ipHeader);
    }
    return chain;
  }

  /** The {@code for=} node of one RFC 7239 forwarded-element, or {@code null}. */
  private static InetAddress forwardedFor(String element) {
    InetAddress found = null;
    boolean seen = false;
    for (String pair : splitOutsideQuotes(element, ';')) {
      String p = pair.strip();
      int eq = p.indexOf('=');
      if (eq <= 0) {
        return null;
      }
      if (!p.substring(0, eq).strip().equalsIgnoreCase("for")) {
        continue;
      }
      if (seen) {
        return null; // two for= in one element: ambiguous
      }
      seen = true;
      String value = unquote(p.substring(eq + 1).strip());
      found = value == null ? null : parseNode(value, true);
    }
    return found;
  }

  /**
   * Parses one node: {@code 192.0.2.1}, {@code 192.0.2.1:80}, {@code [2001:db8::1]},
   * {@code [2001:db8::1]:80}, and (outside RFC 7239) a bare IPv6 literal. {@code unknown} and
   * obfuscated ids ({@code _hidden}) give {@code null}.
   */
  private static InetAddress parseNode(String node, boolean rfc7239) {
    if (node.isEmpty() || node.length() > 64) {
      return null;
    }
    if (node.charAt(0) == '[') {
      int close = node.indexOf(']');
      if (close < 0) {
        return null;
      }
      String rest = node.substring(close + 1);
      if (!rest.isEmpty() && !isPort(rest, rfc7239)) {
        return null;
      }
      String literal = node.substring(1, close);
      return literal.indexOf(':') >= 0 ? IpLiteral.parse(literal) : null;
    }
    int colon = node.indexOf(':');
    if (colon >= 0 && node.indexOf(':', colon + 1) < 0) {
      // IPv4 with a port; IPv6 has at least two colons and must be bracketed to carry one.
      return isPort(node.substring(colon), rfc7239) ? ipv4(node.substring(0, colon)) : null;
    }
    if (colon >= 0 && rfc7239) {
      return null; // RFC 7239 requires brackets around IPv6
    }
    return IpLiteral.parse(node);
  }

  private static InetAddress ipv4(String text) {
    return text.indexOf(':') < 0 ? IpLiteral.parse(text) : null;
  }

  /** {@code :1234}, or in RFC 7239 also an obfuscated port {@code :_abc}. */
  private static boolean isPort(String text, boolean rfc7239) {
    if (text.length() < 2 || text.charAt(0) != ':') {
      return false;
    }
    String port = text.substring(1);
    if (rfc7239 && port.charAt(0) == '_') {
      return port.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '.' || c == '_' || c == '-');
    }
    return port.length() <= 5 && port.chars().allMatch(c -> c >= '0' && c <= '9')
        && Integer.parseInt(port) <= 65535;
  }

  /** Splits on a separator that is not inside a quoted-string. */
  private static List<String> splitOutsideQuotes(String text, char separator) {
    List<String> parts = new ArrayList<>();
    boolean quoted = false;
    int start = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted && c == '\\') {
        i++;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (!quoted && c == separator) {
        parts.add(text.substring(start, i));
        start = i + 1;
      }
    }
    parts.add(text.substring(start));
    return parts;
  }

  /** The value of a token or quoted-string, or {@code null} when the quoting is broken. */
  private static String unquote(String value) {
    if (value.isEmpty() || value.charAt(0) != '"') {
      return value.indexOf('"') >= 0 ? null : value;
    }
    if (value.length() < 2 || value.charAt(value.length() - 1) != '"') {
      return null;
    }
    StringBuilder out = new StringBuilder(value.length());
    for (int i = 1; i < value.length() - 1; i++) {
      char c = value.charAt(i);
      if (c == '\\') {
        if (++i >= value.length() - 1) {
          return null;
        }
        c = value.charAt(i);
      } else if (c == '"') {
        return null;
      }
      out.append(c);
    }
    return out.toString();
  }
}
