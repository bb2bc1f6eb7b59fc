package dev.sluice.gateway.edge;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class ConnectionCapsTest {

  @Test
  void ipv6Peers_areCountedPerSlash64_soRotatingAddressesGainsNothing() throws Exception {
    ConnectionCaps caps = new ConnectionCaps(100, 2, a -> false, null);

    assertThat(caps.tryAcquire(InetAddress.getByName("2001:db8:1:2::1"))).isNull();
    assertThat(caps.tryAcquire(InetAddress.getByName("2001:db8:1:2::2"))).isNull();
    assertThat(caps.tryAcquire(InetAddress.getByName("2001:db8:1:2:ffff::3")))
        .isEqualTo(ConnectionCaps.Reason.MAX_CONNECTIONS_PER_IP);
    assertThat(caps.tryAcquire(InetAddress.getByName("2001:db8:1:3::1"))).as("another /64").isNull();
    assertThat(caps.open()).isEqualTo(3);

    caps.release(InetAddress.getByName("2001:db8:1:2::1"));
    assertThat(caps.open(InetAddress.getByName("2001:db8:1:2::9"))).isEqualTo(1);
    assertThat(caps.tryAcquire(InetAddress.getByName("2001:db8:1:2::5"))).isNull();
  }

  @Test
  void totalCap_refusesWithoutLeakingACount() throws Exception {
    ConnectionCaps caps = new ConnectionCaps(1, 1, a -> false, null);
    InetAddress a = InetAddress.getByName("192.0.2.1");
    InetAddress b = InetAddress.getByName("192.0.2.2");

    assertThat(caps.tryAcquire(a)).isNull();
    assertThat(caps.tryAcquire(b)).isEqualTo(ConnectionCaps.Reason.MAX_CONNECTIONS);
    assertThat(caps.open()).isEqualTo(1);
    assertThat(caps.open(b)).isZero();
    caps.release(a);
    assertThat(caps.open()).isZero();
    assertThat(caps.open(a)).isZero();
  }
}
