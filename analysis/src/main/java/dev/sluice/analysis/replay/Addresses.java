package dev.sluice.analysis.replay;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.Map;

/**
 * Client addresses of log lines, parsed once per distinct text (a log repeats its clients) and
 * only as IP literals: a host name is refused, never looked up (replay sends nothing anywhere).
 * The cache is cleared when it reaches {@value #MAX} entries, so memory stays bounded.
 */
final class Addresses {
  private static final int MAX = 65_536;
  private final Map<String, InetAddress> cache = new HashMap<>();

  private static InetAddress ipv4(String text) throws UnknownHostException {
    byte[] bytes = new byte[4];
    int part = 0;
    int value = -1;
    for (int i = 0; i <= text.length(); i++) {
      char c = i == text.length() ? '.' : text.charAt(i);
      if (c == '.') {
        if (value < 0 || part > 3) {
          return null;
        }
        bytes[part++] = (byte) value;
        value = -1;
      } else if (c >= '0' && c <= '9') {
        value = (value < 0 ? 0 : value * 10) + (c - '0');
        if (value > 255) {
          return null;
        }
      } else {
        return null;
      }
    }
    return part == 4 ? InetAddress.getByAddress(bytes) : null;
  }

  /** The address, or {@code null} when {@code text} is not an IPv4 or IPv6 literal. */
  InetAddress parse(String text) {
    InetAddress cached = cache.get(text);
    if (cached != null) {
      return cached;
    }
    if (text.isEmpty() || text.length() > 45) {
      return null;
    }
    boolean colon = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      colon |= c == ':';
      if (!hex && c != '.' && c != ':') {
        return null;
      }
    }
    InetAddress address;
    try {
      // IPv4 by hand (InetAddress would look up "1.2.3.999" as a host name); text with a colon
      // is only ever parsed as an IPv6 literal.
      address = colon ? InetAddress.getByName(text) : ipv4(text);
    } catch (UnknownHostException e) {
      return null;
    }
    if (address == null) {
      return null;
    }
    if (cache.size() >= MAX) {
      cache.clear();
    }
    cache.put(text, address);
    return address;
  }
}
