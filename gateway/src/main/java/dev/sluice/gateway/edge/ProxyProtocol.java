package dev.sluice.gateway.edge;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PROXY protocol v1 and v2 on the client listener ({@code gateway.proxy_protocol: true}, SPEC
 * §12), decoded by Netty's {@link HAProxyMessageDecoder}.
 *
 * <p>Rules, decided on the connection's first bytes:
 *
 * <ul>
 *   <li>A peer in {@code clients.trusted_proxies} must open the connection with a PROXY header
 *       (v1 text or v2 binary): the source address it carries becomes the connection's peer
 *       ({@link #peer}) for the trusted-proxy walk, {@code X-Forwarded-For} and {@code
 *       max_connections_per_ip}. A trusted peer that sends plain HTTP instead is closed, as nginx's
 *       and HAProxy's {@code accept-proxy} listeners do: otherwise a request with no header would
 *       be decided under the proxy's own address. A {@code LOCAL} (v2) or {@code UNKNOWN} (v1)
 *       header, which load balancers send for their own health checks, keeps the TCP peer.
 *   <li>A peer outside {@code trusted_proxies} may connect directly with plain HTTP; if its first
 *       bytes are a PROXY header ({@code "PROXY "} or the v2 signature) the connection is closed
 *       before anything is read further, so nobody can claim another client's address.
 *   <li>A malformed header closes the connection.
 * </ul>
 *
 * <p>Every such close is counted in {@code sluice_connections_refused_total{reason="proxy_protocol"}}.
 * The head timeout ({@code header_timeout}) runs from the connection's start, so a peer that sends
 * half a PROXY header is closed then.
 */
public final class ProxyProtocol {
  private static final Logger log = LoggerFactory.getLogger(ProxyProtocol.class);
  private static final AttributeKey<InetSocketAddress> CLIENT = AttributeKey.valueOf("sluice.proxyProtocolClient");
  private static final byte[] V1 = "PROXY ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] V2 = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

  private final Predicate<InetAddress> trusted;
  private final ConnectionCaps caps;

  /**
   * @param trusted whether a TCP peer is in {@code clients.trusted_proxies} (asked per connection,
   *     so a reload applies to new connections)
   * @param caps the listener's connection caps; the carried address is counted per address there
   */
  public ProxyProtocol(Predicate<InetAddress> trusted, ConnectionCaps caps) {
    this.trusted = trusted;
    this.caps = caps;
  }

  /**
   * The client's address for {@code channel}: the source of its PROXY header when it had one,
   * else the TCP peer.
   */
  public static InetSocketAddress peer(Channel channel) {
    InetSocketAddress proxied = channel.attr(CLIENT).get();
    if (proxied != null) {
      return proxied;
    }
    SocketAddress remote = channel.remoteAddress();
    return remote instanceof InetSocketAddress a ? a : null;
  }

  /** A new gate for one channel; put it right after the connection caps. */
  public ChannelInboundHandlerAdapter gate() {
    return new Gate();
  }

  /** How many leading bytes of {@code in} match {@code signature}; -1 at the first mismatch. */
  private static int prefixMatch(ByteBuf in, byte[] signature) {
    int n = Math.min(in.readableBytes(), signature.length);
    for (int i = 0; i < n; i++) {
      if (in.getByte(in.readerIndex() + i) != signature[i]) {
        return -1;
      }
    }
    return n;
  }

  private void refuse(ChannelHandlerContext ctx, String why) {
    caps.refusedNow(ConnectionCaps.Reason.PROXY_PROTOCOL);
    log.debug("closing connection from {}: {}", ctx.channel().remoteAddress(), why);
    ctx.close();
  }

  /** Sniffs the first bytes; then removes itself, leaving the decoder and reader for a header. */
  private final class Gate extends ByteToMessageDecoder {
    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      int v1 = prefixMatch(in, V1);
      int v2 = prefixMatch(in, V2);
      boolean header = v1 == V1.length || v2 == V2.length;
      boolean plain = v1 < 0 && v2 < 0;
      if (!header && !plain) {
        return; // too few bytes to tell
      }
      InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
      boolean fromTrusted = remote != null && trusted.test(remote.getAddress());
      if (header && !fromTrusted) {
        in.skipBytes(in.readableBytes());
        refuse(ctx, "PROXY protocol header from a peer outside clients.trusted_proxies");
        return;
      }
      if (plain && fromTrusted) {
        in.skipBytes(in.readableBytes());
        refuse(ctx, "no PROXY protocol header from a trusted proxy while gateway.proxy_protocol is on");
        return;
      }
      if (header) {
        ctx.pipeline().addAfter(ctx.name(), "proxy-protocol-reader", new Reader());
        ctx.pipeline().addAfter(ctx.name(), "proxy-protocol-decoder", new HAProxyMessageDecoder());
      }
      ctx.pipeline().remove(this); // hands what it buffered to the next handler
    }
  }

  /** Takes the decoded header, records the client address, then removes itself. */
  private final class Reader extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof HAProxyMessage message)) {
        ctx.fireChannelRead(msg);
        return;
      }
      try {
        if (message.command() == HAProxyCommand.PROXY
            && message.proxiedProtocol() != HAProxyProxiedProtocol.UNKNOWN
            && message.sourceAddress() != null) {
          InetAddress source;
          try {
            source = InetAddress.getByName(message.sourceAddress()); // a literal: never a lookup
          } catch (java.net.UnknownHostException e) {
            refuse(ctx, "PROXY protocol header with a bad source address");
            return;
          }
          InetSocketAddress client = new InetSocketAddress(source, message.sourcePort());
          ConnectionCaps.Reason refused = caps.adoptClient(ctx.channel(), source);
          if (refused != null) {
            caps.refusedNow(refused);
            ctx.close();
            return;
          }
          ctx.channel().attr(CLIENT).set(client);
        }
      } finally {
        ReferenceCountUtil.release(message);
      }
      ctx.pipeline().remove(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof io.netty.handler.codec.haproxy.HAProxyProtocolException
          || cause.getCause() instanceof io.netty.handler.codec.haproxy.HAProxyProtocolException) {
        refuse(ctx, "malformed PROXY protocol header: " + cause.getMessage());
        return;
      }
      ctx.fireExceptionCaught(cause);
    }
  }
}
