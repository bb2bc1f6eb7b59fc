package dev.sluice.identity;

import java.net.InetAddress;
import java.util.Collection;
import java.util.List;

/**
 * A set of networks, such as {@code trusted_proxies} or {@code exempt.ips}. Immutable and
 * thread-safe.
 *
 * <p>Lookup is a linear scan: these lists are short (a handful of proxy or office networks), and a
 * scan over a few masked byte arrays is faster than building a trie for them.
 */
public final class CidrSet {
  private static final CidrSet EMPTY = new CidrSet(List.of());

  private final List<Cidr> cidrs;

  private CidrSet(List<Cidr> cidrs) {
    this.cidrs = cidrs;
  }

  /** A set of the given networks (copied). */
  public static CidrSet of(Collection<Cidr> cidrs) {
    return cidrs.isEmpty() ? EMPTY : new CidrSet(List.copyOf(cidrs));
  }

  /** The set that contains no address. */
  public static CidrSet empty() {
    return EMPTY;
  }

  /** Whether any network contains the address (IPv4-mapped IPv6 treated as IPv4). */
  public boolean contains(InetAddress address) {
    for (Cidr cidr : cidrs) {
      if (cidr.contains(address)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the set holds no network. */
  public boolean isEmpty() {
    return cidrs.isEmpty();
  }

  /** The networks, in the order given. */
  public List<Cidr> cidrs() {
    return cidrs;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof CidrSet s && s.cidrs.equals(cidrs);
  }

  @Override
  public int hashCode() {
    return cidrs.hashCode();
  }

  @Override
  public String toString() {
    return cidrs.toString();
  }
}
