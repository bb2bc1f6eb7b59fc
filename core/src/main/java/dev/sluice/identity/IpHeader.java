package dev.sluice.identity;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Which request header trusted proxies use to report the client address ({@code clients.ip_header}). */
public enum IpHeader {
  /** {@code X-Forwarded-For: client, proxy1, proxy2} (all header lines, comma-separated). */
  X_FORWARDED_FOR("x-forwarded-for", "X-Forwarded-For"),
  /** RFC 7239 {@code Forwarded: for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"}. */
  FORWARDED("forwarded", "Forwarded"),
  /** {@code X-Real-IP: client} — one address set by the last proxy. */
  X_REAL_IP("x-real-ip", "X-Real-IP"),
  /** Ignore forwarding headers: the TCP peer is always the client. */
  NONE("none", null);

  private final String configName;
  private final String headerName;

  IpHeader(String configName, String headerName) {
    this.configName = configName;
    this.headerName = headerName;
  }

  /** The name used in the policy file, e.g. {@code x-forwarded-for}. */
  public String configName() {
    return configName;
  }

  /** The HTTP header name, or {@code null} for {@link #NONE}. */
  public String headerName() {
    return headerName;
  }

  /**
   * The constant for a policy-file name (exact, lower case).
   *
   * @throws IllegalArgumentException naming the value and the valid ones
   */
  public static IpHeader fromConfigName(String name) {
    for (IpHeader h : values()) {
      if (h.configName.equals(name)) {
        return h;
      }
    }
    throw new IllegalArgumentException("unknown ip_header \"" + name + "\"; expected one of "
        + Arrays.stream(values()).map(IpHeader::configName).collect(Collectors.joining(", ")));
  }
}
