package dev.sluice.gateway.edge;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Caps the client connections open at once: {@code gateway.max_connections} in total and {@code
 * gateway.max_connections_per_ip} per TCP peer address. A connection over a cap is closed as soon
 * as it is accepted, before a byte is read, and counted in {@code
 * sluice_connections_refused_total{reason}}; it never holds more than the moment its accept took.
 *
 * <p>Why per peer address and not per client address: the cap protects file descriptors before
 * any request is parsed, so the forwarding headers are not known yet. Peers in {@code
 * clients.trusted_proxies} are exempt from the per-address cap (a load balancer carries many
 * clients on its own address) and count only towards the total. IPv6 peers are counted per /64
 * (the smallest network one host usually holds), so rotating through one's own addresses gains
 * nothing.
 *
 * <p>Thread-safe: connections on every event loop share one instance; a count is taken and given
 * back exactly once per admitted connection ({@link #handler()} is one per channel).
 */
public final class ConnectionCaps {
  /** Why a connection was refused: the {@code reason} label. */
  public enum Reason {
    /** {@code max_connections} reached. */
    MAX_CONNECTIONS("max_connections"),
    /** {@code max_connections_per_ip} reached for the peer's address. */
    MAX_CONNECTIONS_PER_IP("max_connections_per_ip"),
    /**
     * A PROXY protocol header from a peer outside {@code clients.trusted_proxies}, none from a
     * trusted one while {@code gateway.proxy_protocol} is on, or a malformed one (see {@link
     * ProxyProtocol}).
     */
    PROXY_PROTOCOL("proxy_protocol");

    private final String label;

    Reason(String label) {
      this.label = label;
    }

    /** The metric label value. */
    public String label() {
      return label;
    }
  }

  private final int maxTotal;
  private final int maxPerAddress;
  private final Predicate<InetAddress> uncapped;
  private final EdgeMetrics metrics;
  private final AtomicInteger open = new AtomicInteger();
  private final ConcurrentHashMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();

  /**
   * @param maxTotal {@code max_connections}, at least 1
   * @param maxPerAddress {@code max_connections_per_ip}, at least 1
   * @param uncapped peers exempt from the per-address cap (the trusted proxies)
   * @param metrics where refusals are counted; {@code null} for none
   */
  public ConnectionCaps(int maxTotal, int maxPerAddress, Predicate<InetAddress> uncapped, EdgeMetrics metrics) {
    if (maxTotal < 1 || maxPerAddress < 1) {
      throw new IllegalArgumentException("connection caps must be at least 1, got " + maxTotal + " and " + maxPerAddress);
    }
    this.maxTotal = maxTotal;
    this.maxPerAddress = maxPerAddress;
    this.uncapped = uncapped;
    this.metrics = metrics;
    if (metrics != null) {
      metrics.bindOpenConnections(open::get);
    }
  }

  /** Client connections open now (admitted and not yet closed). */
  public int open() {
    return open.get();
  }

  /** Connections open now from {@code address} (its /64 for IPv6; 0 for an exempt peer). */
  public int open(InetAddress address) {
    return perAddress.getOrDefault(key(address), 0);
  }

  /**
   * Takes one connection for {@code address}.
   *
   * @return {@code null} when admitted (give it back with {@link #release}), else why not
   */
  Reason tryAcquire(InetAddress address) {
    if (open.incrementAndGet() > maxTotal) {
      open.decrementAndGet();
      return Reason.MAX_CONNECTIONS;
    }
    if (address != null && !uncapped.test(address)) {
      boolean[] admitted = {false};
      perAddress.compute(key(address), (a, n) -> {
        int count = n == null ? 0 : n;
        if (count >= maxPerAddress) {
          return n;
        }
        admitted[0] = true;
        return count + 1;
      });
      if (!admitted[0]) {
        open.decrementAndGet();
        return Reason.MAX_CONNECTIONS_PER_IP;
      }
    }
    return null;
  }

  void release(InetAddress address) {
    open.decrementAndGet();
    if (address != null && !uncapped.test(address)) {
      perAddress.computeIfPresent(key(address), (a, n) -> n <= 1 ? null : n - 1);
    }
  }

  /**
   * Counts the connection of {@code channel} (admitted from a trusted proxy) per address also
   * under {@code client}, the address its PROXY protocol header carries; the count is given back
   * when the connection closes.
   *
   * @return {@code null} when admitted, else why not (the caller closes the connection)
   */
  Reason adoptClient(io.netty.channel.Channel channel, InetAddress client) {
    Handler handler = channel.pipeline().get(Handler.class);
    if (handler == null || !handler.admitted || client == null || uncapped.test(client)) {
      return null;
    }
    boolean[] admitted = {false};
    perAddress.compute(key(client), (a, n) -> {
      int count = n == null ? 0 : n;
      if (count >= maxPerAddress) {
        return n;
      }
      admitted[0] = true;
      return count + 1;
    });
    if (!admitted[0]) {
      return Reason.MAX_CONNECTIONS_PER_IP;
    }
    handler.client = client;
    return null;
  }

  void refusedNow(Reason reason) {
    if (metrics != null) {
      metrics.refused(reason);
    }
  }

  /** The counted unit: the address itself for IPv4, its /64 for IPv6. */
  static InetAddress key(InetAddress address) {
    if (!(address instanceof Inet6Address)) {
      return address;
    }
    byte[] bytes = address.getAddress();
    java.util.Arrays.fill(bytes, 8, 16, (byte) 0);
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException impossible) {
      return address; // 16 bytes are always a valid address
    }
  }

  /** A new handler for one channel; put it first in the pipeline. */
  public ChannelInboundHandlerAdapter handler() {
    return new Handler();
  }

  private final class Handler extends ChannelInboundHandlerAdapter {
    private InetAddress counted;
    /** The address a PROXY protocol header carried, counted per address on its own; or null. */
    private InetAddress client;
    private boolean admitted;

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      InetAddress peer = ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
      Reason refused = tryAcquire(peer);
      if (refused != null) {
        if (metrics != null) {
          metrics.refused(refused);
        }
        ctx.close(); // the rest of the pipeline never sees the connection become active
        return;
      }
      admitted = true;
      counted = peer;
      ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (admitted) {
        admitted = false;
        release(counted);
        if (client != null) {
          InetAddress proxied = client;
          client = null;
          perAddress.computeIfPresent(key(proxied), (a, n) -> n <= 1 ? null : n - 1);
        }
      }
      ctx.fireChannelInactive();
    }
  }
}
