package dev.sluice.identity;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * IP address literals: parsing without name resolution, IPv4-mapped normalisation and the canonical
 * text form (RFC 5952 for IPv6).
 *
 * <p>Why not {@code InetAddress.getByName}: given anything that is not a literal it performs a DNS
 * lookup, and the strings parsed here come from clients (forwarding headers). Each literal is
 * validated by hand and turned into an address with {@link InetAddress#getByAddress(byte[])}, which
 * never touches the network. Strict on purpose: IPv4 parts with leading zeros ({@code 010.0.0.1},
 * octal to some parsers) and IPv6 zone ids are rejected.
 */
final class IpLiteral {
  private IpLiteral() {}

  /** Parses an IPv4 or IPv6 literal (no brackets, no port), or returns {@code null}. */
  static InetAddress parse(String text) {
    if (text == null || text.isEmpty() || text.length() > 45) {
      return null;
    }
    byte[] bytes = text.indexOf(':') >= 0 ? parseV6(text) : parseV4(text);
    if (bytes == null) {
      return null;
    }
    return fromBytes(bytes);
  }

  /** An address from raw bytes; IPv4-mapped IPv6 becomes IPv4. */
  static InetAddress fromBytes(byte[] bytes) {
    try {
      return normalise(InetAddress.getByAddress(bytes));
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("bad address length " + bytes.length, e);
    }
  }

  /** IPv4-mapped IPv6 ({@code ::ffff:a.b.c.d}) becomes the IPv4 address; others are unchanged. */
  static InetAddress normalise(InetAddress address) {
    if (address instanceof Inet6Address) {
      byte[] b = address.getAddress();
      boolean mapped = b[10] == (byte) 0xFF && b[11] == (byte) 0xFF;
      for (int i = 0; i < 10 && mapped; i++) {
        mapped = b[i] == 0;
      }
      if (mapped) {
        return fromBytes(Arrays.copyOfRange(b, 12, 16));
      }
      if (((Inet6Address) address).getScopeId() != 0 || ((Inet6Address) address).getScopedInterface() != null) {
        return fromBytes(b); // drop the zone: it is local to the host, not part of the identity
      }
    }
    return address;
  }

  /** Canonical text: dotted quad for IPv4, RFC 5952 for IPv6 ({@code 2001:db8::1}). */
  static String format(InetAddress address) {
    InetAddress a = normalise(address);
    if (a instanceof Inet4Address) {
      return formatV4("", a.getAddress());
    }
    return formatV6(a.getAddress());
  }

  /**
   * {@code prefix} then the dotted quad of the four bytes {@code b}, in one expression: no
   * intermediate text of the address ({@code getHostAddress()} plus a prefix would build two).
   */
  static String formatV4(String prefix, byte[] b) {
    return prefix + (b[0] & 0xFF) + "." + (b[1] & 0xFF) + "." + (b[2] & 0xFF) + "." + (b[3] & 0xFF);
  }

  static String formatV6(byte[] b) {
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((b[2 * i] & 0xFF) << 8) | (b[2 * i + 1] & 0xFF);
    }
    int bestStart = -1;
    int bestLength = 1; // RFC 5952 §4.2.2: "::" never shortens a single 0 group
    for (int i = 0; i < 8; ) {
      if (groups[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j;
    }
    StringBuilder out = new StringBuilder(39);
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        out.append("::");
        i += bestLength - 1;
        continue;
      }
      if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
        out.append(':');
      }
      out.append(Integer.toHexString(groups[i]));
    }
    return out.toString();
  }

  private static byte[] parseV4(String text) {
    byte[] out = new byte[4];
    int part = 0;
    int start = 0;
    for (int i = 0; i <= text.length(); i++) {
      if (i == text.length() || text.charAt(i) == '.') {
        if (part > 3) {
          return null;
        }
        int len = i - start;
        if (len < 1 || len > 3 || (len > 1 && text.charAt(start) == '0')) {
          return null;
        }
        int value = 0;
        for (int k = start; k < i; k++) {
          char c = text.charAt(k);
          if (c < '0' || c > '9') {
            return null;
          }
          value = value * 10 + (c - '0');
        }
        if (value > 255) {
          return null;
        }
        out[part++] = (byte) value;
        start = i + 1;
      }
    }
    return part == 4 ? out : null;
  }

  private static byte[] parseV6(String text) {
    int gap = text.indexOf("::");
    if (gap >= 0 && text.indexOf("::", gap + 1) >= 0) {
      return null;
    }
    int[] head;
    int[] tail;
    if (gap < 0) {
      head = groups(text, true);
      tail = new int[0];
      if (head == null || head.length != 8) {
        return null;
      }
    } else {
      String h = text.substring(0, gap);
      String t = text.substring(gap + 2);
      head = h.isEmpty() ? new int[0] : groups(h, false);
      tail = t.isEmpty() ? new int[0] : groups(t, true);
      if (head == null || tail == null || head.length + tail.length > 7) {
        return null;
      }
    }
    byte[] out = new byte[16];
    for (int i = 0; i < head.length; i++) {
      out[2 * i] = (byte) (head[i] >> 8);
      out[2 * i + 1] = (byte) head[i];
    }
    int offset = 8 - tail.length;
    for (int i = 0; i < tail.length; i++) {
      out[2 * (offset + i)] = (byte) (tail[i] >> 8);
      out[2 * (offset + i) + 1] = (byte) tail[i];
    }
    return out;
  }

  /**
   * Parses colon-separated 16-bit groups; when {@code allowV4Tail}, the last part may be a dotted
   * quad, which counts as two groups.
   */
  private static int[] groups(String text, boolean allowV4Tail) {
    String[] parts = text.split(":", -1);
    byte[] v4 = null;
    String last = parts[parts.length - 1];
    if (last.indexOf('.') >= 0) {
      if (!allowV4Tail) {
        return null;
      }
      v4 = parseV4(last);
      if (v4 == null) {
        return null;
      }
    }
    int count = v4 == null ? parts.length : parts.length - 1;
    int[] out = new int[count + (v4 == null ? 0 : 2)];
    for (int i = 0; i < count; i++) {
      String p = parts[i];
      if (p.isEmpty() || p.length() > 4) {
        return null;
      }
      int value = 0;
      for (int k = 0; k < p.length(); k++) {
        int d = hexDigit(p.charAt(k));
        if (d < 0) {
          return null;
        }
        value = value * 16 + d;
      }
      out[i] = value;
    }
    if (v4 != null) {
      out[count] = ((v4[0] & 0xFF) << 8) | (v4[1] & 0xFF);
      out[count + 1] = ((v4[2] & 0xFF) << 8) | (v4[3] & 0xFF);
    }
    return out;
  }

  private static int hexDigit(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }
}
