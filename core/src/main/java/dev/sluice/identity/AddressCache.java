package dev.sluice.identity;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Objects;

/**
 * What the resolver derives from an address alone, computed once per address while it stays
 * cached: the client address of a direct (unproxied) peer and the {@code ip} identity, whose value
 * groups IPv6 by {@code ipv6_prefix} ({@link #ipValue}).
 *
 * <p>Why: formatting an address and building its identity key cost more than the rest of a
 * memory-store decision, and the clients that matter most (a flood, a busy partner) repeat.
 * The cache is direct-mapped and racy on purpose: entries are immutable (final fields, so a
 * reader sees them whole; the client's text is a String filled in when first asked for), a lost
 * write only costs a recomputation, and there is no lock. It is
 * on the hot path: a hit allocates nothing.
 */
final class AddressCache {
  private static final IdentitySpec IP_SPEC = new IdentitySpec(IdentityKind.IP, null);
  /** What an {@code ip} identity's key starts with: {@link Identity#key()}'s {@code spec:}. */
  private static final String IP_KEY_PREFIX = IP_SPEC + ":";
  /** Slots of the address cache; a power of two. */
  private static final int KNOWN_SLOTS = 1024;

  private final int ipv6Prefix;
  /** Recently seen addresses as direct peers, each with its ip identity. */
  private final ClientAddress[] known = new ClientAddress[KNOWN_SLOTS];
  /** Each slot's address hash, checked first: a miss then never reads the cold cached entry. */
  private final int[] knownHashes = new int[KNOWN_SLOTS];

  AddressCache(int ipv6Prefix) {
    this.ipv6Prefix = ipv6Prefix;
  }

  /** {@link IdentityResolver#ipValue}: the rule, kept beside the cache that remembers its results. */
  String ipValue(InetAddress address) {
    InetAddress a = IpLiteral.normalise(Objects.requireNonNull(address, "address"));
    if (a instanceof Inet4Address || ipv6Prefix == 128) {
      return IpLiteral.format(a);
    }
    return IpLiteral.formatV6(Cidr.mask(a.getAddress(), ipv6Prefix)) + "/" + ipv6Prefix;
  }

  /**
   * The client address of a direct peer at the normalised {@code address}, carrying its {@code ip}
   * identity ({@link ClientAddress#cachedIp}): the cached one, or made now on a miss.
   */
  ClientAddress known(InetAddress address) {
    int h = address.hashCode();
    int slot = (h ^ (h >>> 16)) & (KNOWN_SLOTS - 1);
    if (knownHashes[slot] == h) {
      ClientAddress k = known[slot];
      // The same instance is the common case (a connection's requests share its peer address).
      if (k != null && (k.client() == address || k.client().equals(address))) {
        return k;
      }
    }
    // An IPv4 key is written from the address bytes in one expression; the address's own text is
    // left to the client address, formatted only if something asks for it.
    Identity ip = address instanceof Inet4Address
        ? Identity.ofKey(IP_SPEC, IpLiteral.formatV4(IP_KEY_PREFIX, address.getAddress()))
        : new Identity(IP_SPEC, ipValue(address));
    ClientAddress k = ClientAddress.direct(address, ip);
    // Two plain writes, not atomic together: a reader that sees one without the other only
    // misses (equals still decides), never gets another address's entry.
    known[slot] = k;
    knownHashes[slot] = h;
    return k;
  }
}
