package dev.sluice.gateway.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The relay on Netty's embedded channels, whose clocks the test advances (idle timeout). */
class TunnelsTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final Tunnels tunnels = new Tunnels(registry, Duration.ofSeconds(30));
  private final AtomicInteger closed = new AtomicInteger();

  private Tunnels.Tunnel tunnel(EmbeddedChannel client, EmbeddedChannel upstream) {
    Tunnels.Tunnel tunnel = tunnels.open(client, upstream, closed::incrementAndGet);
    client.pipeline().addLast(tunnel.idleHandler(), tunnel.clientSide());
    upstream.pipeline().addLast(tunnel.upstreamSide());
    tunnel.start();
    return tunnel;
  }

  @Test
  void bytesAreRelayedBothWays_andTheGaugeCountsTheTunnel() {
    EmbeddedChannel client = new EmbeddedChannel();
    EmbeddedChannel upstream = new EmbeddedChannel();
    tunnel(client, upstream);
    assertThat(registry.get("sluice_websocket_tunnels_open").gauge().value()).isEqualTo(1.0);
    assertThat(registry.get("sluice_websocket_tunnels_opened").counter().count()).isEqualTo(1.0);
    client.writeInbound(Unpooled.copiedBuffer("up", StandardCharsets.US_ASCII));
    upstream.writeInbound(Unpooled.copiedBuffer("down", StandardCharsets.US_ASCII));
    ByteBuf toUpstream = upstream.readOutbound();
    ByteBuf toClient = client.readOutbound();
    assertThat(toUpstream.toString(StandardCharsets.US_ASCII)).isEqualTo("up");
    assertThat(toClient.toString(StandardCharsets.US_ASCII)).isEqualTo("down");
    toUpstream.release();
    toClient.release();
  }

  @Test
  void oneSideClosing_closesTheOther_andEndsTheTunnelOnce() {
    EmbeddedChannel client = new EmbeddedChannel();
    EmbeddedChannel upstream = new EmbeddedChannel();
    tunnel(client, upstream);
    upstream.close();
    client.runPendingTasks();
    assertThat(client.isOpen()).isFalse();
    assertThat(closed.get()).isEqualTo(1);
    assertThat(tunnels.open()).isZero();
    assertThat(registry.get("sluice_websocket_tunnels_open").gauge().value()).isZero();
  }

  @Test
  void silentForTheIdleTimeout_closesBothSides() {
    EmbeddedChannel client = new EmbeddedChannel();
    EmbeddedChannel upstream = new EmbeddedChannel();
    tunnel(client, upstream);
    client.advanceTimeBy(29, TimeUnit.SECONDS);
    client.runScheduledPendingTasks();
    assertThat(client.isOpen()).isTrue();
    client.writeInbound(Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII)); // traffic resets the timer
    ((ByteBuf) upstream.readOutbound()).release();
    client.advanceTimeBy(29, TimeUnit.SECONDS);
    client.runScheduledPendingTasks();
    assertThat(client.isOpen()).isTrue();
    client.advanceTimeBy(2, TimeUnit.SECONDS);
    client.runScheduledPendingTasks();
    upstream.runPendingTasks();
    assertThat(client.isOpen()).isFalse();
    assertThat(upstream.isOpen()).isFalse();
    assertThat(closed.get()).isEqualTo(1);
  }
}
