package dev.sluice.identity;

import dev.sluice.request.RequestView;
import java.net.InetAddress;
import java.util.List;
import java.util.Objects;

/**
 * The trusted-proxy walk ({@code trusted_proxies}, {@code ip_header}): which address a request
 * comes from, and which forwarding chain goes upstream. The rule is in {@link IdentityResolver}'s
 * class comment; the header's addresses come from {@link ForwardedChain}, a direct peer's result
 * from the {@link AddressCache}.
 */
final class ProxyWalk {
  private final CidrSet trustedProxies;
  private final IpHeader ipHeader;
  private final boolean walksProxies;
  private final AddressCache addresses;

  ProxyWalk(CidrSet trustedProxies, IpHeader ipHeader, AddressCache addresses) {
    this.trustedProxies = trustedProxies;
    this.ipHeader = ipHeader;
    this.walksProxies = ipHeader != IpHeader.NONE && !trustedProxies.isEmpty();
    this.addresses = addresses;
  }

  CidrSet trustedProxies() {
    return trustedProxies;
  }

  IpHeader ipHeader() {
    return ipHeader;
  }

  /** See {@link IdentityResolver#clientAddress(RequestView)}. */
  ClientAddress clientAddress(RequestView request) {
    InetAddress peer = IpLiteral.normalise(Objects.requireNonNull(request.peerAddress(), "peerAddress"));
    ClientAddress direct = addresses.known(peer);
    if (!walksProxies || !trustedProxies.contains(peer)) {
      return direct;
    }
    String peerText = direct.forwardedFor();
    List<InetAddress> chain = ForwardedChain.of(request, ipHeader);
    InetAddress client = peer;
    int clientIndex = chain.size();
    for (int i = chain.size() - 1; i >= 0; i--) {
      InetAddress hop = chain.get(i);
      if (hop == null) {
        break; // malformed/unknown: stop at the last good address
      }
      client = hop;
      clientIndex = i;
      if (!trustedProxies.contains(hop)) {
        break;
      }
    }
    StringBuilder forwardedFor = new StringBuilder();
    for (int i = clientIndex; i < chain.size(); i++) {
      forwardedFor.append(IpLiteral.format(chain.get(i))).append(", ");
    }
    forwardedFor.append(peerText);
    return new ClientAddress(client, forwardedFor.toString());
  }

  /** See {@link IdentityResolver#isTrustedProxy(InetAddress)}. */
  boolean isTrustedProxy(InetAddress peer) {
    return walksProxies && trustedProxies.contains(IpLiteral.normalise(Objects.requireNonNull(peer, "peer")));
  }
}
