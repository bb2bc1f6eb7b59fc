package dev.sluice.gateway.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

class UpgradesTest {
  private static HttpRequest request(HttpMethod method, HttpVersion version, String... headers) {
    HttpRequest request = new DefaultHttpRequest(version, method, "/ws");
    for (int i = 0; i < headers.length; i += 2) {
      request.headers().add(headers[i], headers[i + 1]);
    }
    return request;
  }

  @Test
  void isWebSocket_getWithConnectionUpgradeAndUpgradeWebsocket_inAnyCaseAndList() {
    assertThat(Upgrades.isWebSocket(request(HttpMethod.GET, HttpVersion.HTTP_1_1,
        "Connection", "Upgrade", "Upgrade", "websocket"))).isTrue();
    assertThat(Upgrades.isWebSocket(request(HttpMethod.GET, HttpVersion.HTTP_1_1,
        "Connection", "keep-alive, upgrade", "Upgrade", "WebSocket"))).isTrue();
  }

  @Test
  void isWebSocket_notForOtherMethodsVersionsUpgradesOrBodies() {
    assertThat(Upgrades.isWebSocket(request(HttpMethod.POST, HttpVersion.HTTP_1_1,
        "Connection", "Upgrade", "Upgrade", "websocket"))).isFalse();
    assertThat(Upgrades.isWebSocket(request(HttpMethod.GET, HttpVersion.HTTP_1_0,
        "Connection", "Upgrade", "Upgrade", "websocket"))).isFalse();
    assertThat(Upgrades.isWebSocket(request(HttpMethod.GET, HttpVersion.HTTP_1_1,
        "Connection", "Upgrade", "Upgrade", "h2c"))).isFalse();
    assertThat(Upgrades.isWebSocket(request(HttpMethod.GET, HttpVersion.HTTP_1_1,
        "Upgrade", "websocket"))).isFalse();
    assertThat(Upgrades.isWebSocket(request(HttpMethod.GET, HttpVersion.HTTP_1_1,
        "Connection", "Upgrade", "Upgrade", "websocket", "Content-Length", "5"))).isFalse();
    assertThat(Upgrades.isWebSocket(request(HttpMethod.GET, HttpVersion.HTTP_1_1,
        "Connection", "Upgrade", "Upgrade", "websocket", "Transfer-Encoding", "chunked"))).isFalse();
  }

  @Test
  void keepUpgrade_putsBackUpgradeAndConnectionUpgradeOnly() {
    HttpHeaders client = new DefaultHttpHeaders().add("Upgrade", "websocket").add("Connection", "Upgrade, X-Secret");
    HttpHeaders upstream = new DefaultHttpHeaders();
    Upgrades.keepUpgrade(client, upstream);
    assertThat(upstream.getAll("Upgrade")).containsExactly("websocket");
    assertThat(upstream.getAll("Connection")).containsExactly("Upgrade");
  }
}
