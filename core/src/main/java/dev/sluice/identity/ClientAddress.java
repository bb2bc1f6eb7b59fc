package dev.sluice.identity;

import java.net.InetAddress;
import java.util.Objects;

/**
 * Where a request came from, as decided by the trusted-proxy walk (see {@link
 * IdentityResolver#clientAddress(dev.sluice.request.RequestView)}).
 *
 * @param client the client address (IPv4-mapped IPv6 already IPv4), not grouped by prefix
 * @param forwardedFor the {@code X-Forwarded-For} value to send upstream: the trusted part of the
 *     incoming chain, starting with the client, followed by the TCP peer, comma+space separated
 */
public record ClientAddress(InetAddress client, String forwardedFor) {

  /** Validates the components and normalises IPv4-mapped addresses. */
  public ClientAddress {
    client = IpLiteral.normalise(Objects.requireNonNull(client, "client"));
    Objects.requireNonNull(forwardedFor, "forwardedFor");
  }

  /** The client address in canonical text ({@code 192.0.2.1}, {@code 2001:db8::1}), ungrouped. */
  public String clientText() {
    return IpLiteral.format(client);
  }
}
