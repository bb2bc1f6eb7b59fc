package dev.sluice.identity;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Objects;

/**
 * An IPv4 or IPv6 network, such as {@code 10.0.0.0/8} or {@code 2001:db8::/32}.
 *
 * <p>IPv4-mapped IPv6 networks ({@code ::ffff:10.0.0.0/104}) are stored as the IPv4 network they
 * denote ({@code 10.0.0.0/8}), matching how client addresses are normalised. Address families never
 * mix: an IPv4 address is contained only in IPv4 networks, so {@code ::/0} does not trust every IPv4
 * peer by accident.
 *
 * @param network the network address, host bits all zero, never IPv4-mapped IPv6
 * @param prefixLength 0..32 for IPv4, 0..128 for IPv6
 */
public record Cidr(InetAddress network, int prefixLength) {

  /**
   * Validates the network.
   *
   * @throws IllegalArgumentException when the prefix length is out of range or host bits are set
   */
  public Cidr {
    Objects.requireNonNull(network, "network");
    InetAddress original = network;
    int bits = network.getAddress().length * 8;
    InetAddress normalised = IpLiteral.normalise(network);
    if (normalised instanceof Inet4Address && bits == 128) {
      if (prefixLength < 96 || prefixLength > 128) {
        throw new IllegalArgumentException("invalid CIDR \"" + IpLiteral.formatV6(original.getAddress())
            + "/" + prefixLength + "\": an IPv4-mapped network needs a prefix length in 96..128");
      }
      prefixLength -= 96;
      bits = 32;
    }
    network = normalised;
    if (prefixLength < 0 || prefixLength > bits) {
      throw new IllegalArgumentException("invalid CIDR \"" + IpLiteral.format(network) + "/" + prefixLength
          + "\": prefix length " + prefixLength + " is out of range 0.." + bits);
    }
    byte[] masked = mask(network.getAddress(), prefixLength);
    if (!java.util.Arrays.equals(masked, network.getAddress())) {
      String text = IpLiteral.format(network) + "/" + prefixLength;
      throw new IllegalArgumentException("invalid CIDR \"" + text + "\": host bits are set; did you mean \""
          + IpLiteral.format(IpLiteral.fromBytes(masked)) + "/" + prefixLength + "\"?");
    }
  }

  /**
   * Parses {@code address/prefix} or a bare address (a single host: {@code /32} or {@code /128}).
   * Never performs a DNS lookup: host names are rejected.
   *
   * @throws IllegalArgumentException with a message naming the text and the problem, e.g.
   *     {@code invalid CIDR "10.0.0.0/33": prefix length 33 is out of range 0..32}
   */
  public static Cidr parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException(
          "invalid CIDR \"" + (text == null ? "" : text) + "\": it is empty; expected an address or network such as 10.0.0.0/8 or 2001:db8::/32");
    }
    String t = text.strip();
    int slash = t.indexOf('/');
    String addressText = slash < 0 ? t : t.substring(0, slash);
    InetAddress address = IpLiteral.parse(addressText);
    if (address == null) {
      throw new IllegalArgumentException("invalid CIDR \"" + t + "\": \"" + addressText
          + "\" is not an IPv4 or IPv6 address; expected an address or network such as 10.0.0.0/8 or 2001:db8::/32");
    }
    boolean mapped = addressText.indexOf(':') >= 0 && address instanceof Inet4Address;
    int bits = addressText.indexOf(':') >= 0 ? 128 : 32;
    int prefix = bits;
    if (slash >= 0) {
      String p = t.substring(slash + 1);
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')
          || (p.length() > 1 && p.charAt(0) == '0')) {
        throw new IllegalArgumentException("invalid CIDR \"" + t + "\": prefix length \"" + p
            + "\" is not a number in 0.." + bits);
      }
      prefix = Integer.parseInt(p);
      if (prefix > bits) {
        throw new IllegalArgumentException("invalid CIDR \"" + t + "\": prefix length " + prefix
            + " is out of range 0.." + bits);
      }
    }
    try {
      if (mapped) {
        if (prefix < 96) {
          throw new IllegalArgumentException("an IPv4-mapped network needs a prefix length in 96..128, got " + prefix);
        }
        return new Cidr(address, prefix - 96);
      }
      return new Cidr(address, prefix);
    } catch (IllegalArgumentException e) {
      String reason = e.getMessage().replaceFirst("^invalid CIDR \"[^\"]*\": ", "");
      throw new IllegalArgumentException("invalid CIDR \"" + t + "\": " + reason, e);
    }
  }

  /** Whether the address (IPv4-mapped IPv6 treated as IPv4) is in this network. */
  public boolean contains(InetAddress address) {
    byte[] candidate = IpLiteral.normalise(Objects.requireNonNull(address, "address")).getAddress();
    byte[] net = network.getAddress();
    if (candidate.length != net.length) {
      return false;
    }
    return java.util.Arrays.equals(mask(candidate, prefixLength), net);
  }

  /** {@code network/prefix}, e.g. {@code 10.0.0.0/8}. */
  @Override
  public String toString() {
    return IpLiteral.format(network) + "/" + prefixLength;
  }

  /** The address with all bits after the first {@code prefix} cleared. */
  static byte[] mask(byte[] address, int prefix) {
    byte[] out = address.clone();
    for (int i = 0; i < out.length; i++) {
      int keep = Math.max(0, Math.min(8, prefix - i * 8));
      out[i] = (byte) (out[i] & (0xFF00 >> keep));
    }
    return out;
  }
}
