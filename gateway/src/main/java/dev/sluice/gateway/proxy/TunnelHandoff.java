package dev.sluice.gateway.proxy;

import dev.sluice.gateway.tunnel.Tunnels;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;

/**
 * Turns an upgraded exchange into a tunnel: the {@code 101} has been written to the client; the
 * HTTP handlers leave both pipelines and {@link Tunnels.Tunnel}'s relays take their place. What
 * stays on the client side: the connection caps (the connection still counts), PROXY protocol
 * state, TLS and the drain tracker.
 *
 * <p>Order matters: each codec hands the bytes it has read but not decoded to the next handler
 * when removed, so the other side must already take raw bytes by then.
 */
final class TunnelHandoff {
  private TunnelHandoff() {}

  static void start(Channel client, Channel upstream, Tunnels tunnels, Runnable onClose) {
    ChannelPipeline c = client.pipeline();
    ChannelPipeline u = upstream.pipeline();
    Tunnels.Tunnel tunnel = tunnels.open(client, upstream, onClose);
    c.remove("encoder"); // the 101 has passed it; from here the client gets raw bytes
    u.replace(UpstreamHandler.class, "tunnel", tunnel.upstreamSide());
    u.remove("codec"); // its undecoded bytes (the first frames) go to the client
    c.replace(ClientHandler.class, "tunnel", tunnel.clientSide());
    // A tunnel is bounded by its idle timer; the request-head and body deadlines are for HTTP
    // and end with the decoder.
    c.replace("idle", "idle", tunnel.idleHandler());
    c.remove("decoder"); // its undecoded bytes go to the upstream, whose codec is gone
    tunnel.start();
  }
}
