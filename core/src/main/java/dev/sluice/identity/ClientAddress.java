package dev.sluice.identity;

import java.net.InetAddress;
import java.util.Objects;

/**
 * Where a request came from, as decided by the trusted-proxy walk (see {@link
 * IdentityResolver#clientAddress(dev.sluice.request.RequestView)}). Immutable; equality and
 * hashing are those of the pair {@code (client, forwardedFor)}.
 *
 * <p>Not a record only so that a direct peer's text is formatted when it is first asked for: a
 * client seen once and refused (a flood from many addresses) never needs it, and its {@code ip}
 * identity's key is built from the address without it ({@link AddressCache}).
 */
public final class ClientAddress {
  private final InetAddress client;
  /** Null until asked for, for a direct peer (whose chain is its own text); racy on purpose. */
  private String forwardedFor;
  /** The {@code ip} identity of a direct peer, kept with it by the {@link AddressCache}; else null. */
  private final Identity ip;

  /**
   * @param client the client address (IPv4-mapped IPv6 is normalised to IPv4), not grouped by
   *     prefix
   * @param forwardedFor the {@code X-Forwarded-For} value to send upstream: the trusted part of
   *     the incoming chain, starting with the client, followed by the TCP peer, comma+space
   *     separated
   */
  public ClientAddress(InetAddress client, String forwardedFor) {
    this.client = IpLiteral.normalise(Objects.requireNonNull(client, "client"));
    this.forwardedFor = Objects.requireNonNull(forwardedFor, "forwardedFor");
    this.ip = null;
  }

  /** A direct peer: its chain is its own text, formatted when first asked for. */
  private ClientAddress(InetAddress normalised, Identity ip) {
    this.client = normalised;
    this.forwardedFor = null;
    this.ip = ip;
  }

  /** A direct (unproxied) peer, already normalised, with its {@code ip} identity; for the cache. */
  static ClientAddress direct(InetAddress normalised, Identity ip) {
    return new ClientAddress(normalised, Objects.requireNonNull(ip, "ip"));
  }

  /** The client address (IPv4-mapped addresses already IPv4), not grouped by prefix. */
  public InetAddress client() {
    return client;
  }

  /**
   * The {@code X-Forwarded-For} value to send upstream: the trusted part of the incoming chain,
   * starting with the client, followed by the TCP peer, comma+space separated.
   */
  public String forwardedFor() {
    String f = forwardedFor;
    if (f == null) {
      // A String is safe to publish through a race: at worst two threads format it.
      f = IpLiteral.format(client);
      forwardedFor = f;
    }
    return f;
  }

  /**
   * The client address in canonical text ({@code 192.0.2.1}, {@code 2001:db8::1}), ungrouped; a
   * direct peer's is formatted once while it stays in the address cache.
   */
  public String clientText() {
    return ip != null ? forwardedFor() : IpLiteral.format(client);
  }

  /**
   * {@code address} in the canonical text every Sluice output uses: a dotted quad for IPv4 (and
   * IPv4-mapped IPv6), RFC 5952 for IPv6 ({@code 2001:db8::1}, not {@code getHostAddress()}'s
   * {@code 2001:db8:0:0:0:0:0:1}), as in identities, {@code X-Forwarded-For} and nginx's logs.
   */
  public static String canonicalText(InetAddress address) {
    return IpLiteral.format(Objects.requireNonNull(address, "address"));
  }

  /** The cached {@code ip} identity of a direct peer; null for any other client address. */
  Identity cachedIp() {
    return ip;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ClientAddress other && client.equals(other.client)
        && forwardedFor().equals(other.forwardedFor());
  }

  @Override
  public int hashCode() {
    return 31 * client.hashCode() + forwardedFor().hashCode();
  }

  @Override
  public String toString() {
    return "ClientAddress[client=" + client + ", forwardedFor=" + forwardedFor() + "]";
  }
}
