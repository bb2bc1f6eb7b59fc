package dev.sluice.config;

import dev.sluice.identity.IdentityResolver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The warning for a trusted proxy range that contains the gateway's own listen address.
 *
 * <p>Why: a process on the gateway's host that connects to the gateway comes from the listen
 * address (or, for a wildcard listener, from loopback). When that address is a trusted proxy, the
 * process is believed when it writes {@code X-Forwarded-For}, so it can claim any client address
 * and get a fresh bucket for each. "Entries a client invents on the left are ignored" is true only
 * for clients that cannot reach the gateway from a trusted address. The set-up is valid (a
 * same-host nginx needs it), so it is a warning that names the risk, not an error.
 */
final class ListenTrustWarning {
  private ListenTrustWarning() {}

  /** {@code warnings} followed by this warning when it applies; {@code gateway} may be null. */
  static List<String> addTo(List<String> warnings, GatewaySettings gateway, IdentityResolver identity) {
    if (gateway == null) {
      return warnings;
    }
    List<String> all = new ArrayList<>(warnings);
    InetSocketAddress listen = gateway.listen();
    for (InetAddress local : ownAddresses(listen)) {
      if (identity.isTrustedProxy(local)) {
        all.add(message(local, listen));
        break;
      }
    }
    return all;
  }

  /** The listen address; for a wildcard listener, the loopback addresses local processes use. */
  private static List<InetAddress> ownAddresses(InetSocketAddress listen) {
    InetAddress address = listen.getAddress();
    if (address == null) {
      return List.of();
    }
    if (!address.isAnyLocalAddress()) {
      return List.of(address);
    }
    return List.of(InetAddress.getLoopbackAddress(), loopback6());
  }

  static String message(InetAddress local, InetSocketAddress listen) {
    String host = local.getHostAddress();
    String listenText = listen.getAddress().getHostAddress();
    return "clients.trusted_proxies contains " + host + ", an address the gateway listens on (gateway.listen "
        + (listenText.indexOf(':') >= 0 ? "[" + listenText + "]" : listenText) + ":" + listen.getPort()
        + "): any process on this host can connect from it and claim any client address in the forwarding"
        + " header; run nothing else on this host that could, or set trusted_proxies: [] when clients"
        + " connect directly";
  }

  private static InetAddress loopback6() {
    try {
      return InetAddress.getByAddress("localhost", new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    } catch (java.net.UnknownHostException e) {
      throw new IllegalStateException(e); // a 16-byte address is always accepted
    }
  }
}
