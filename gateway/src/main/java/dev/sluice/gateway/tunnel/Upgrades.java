package dev.sluice.gateway.tunnel;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Which requests open a tunnel, and the upgrade fields they keep on the way upstream.
 *
 * <p>A WebSocket opening handshake (RFC 6455 §4.1) is an HTTP/1.1 {@code GET} with {@code
 * Connection: upgrade} (as one token of the list) and {@code Upgrade: websocket}, and no body. Only
 * such a request keeps its {@code Upgrade} field: every other {@code Upgrade} (h2c, TLS, an upgrade
 * with a body) is removed as hop-by-hop, so the upstream answers plain HTTP/1.1.
 */
public final class Upgrades {
  private Upgrades() {}

  /** Whether {@code request} is a WebSocket upgrade the gateway tunnels once admitted. */
  public static boolean isWebSocket(HttpRequest request) {
    HttpHeaders headers = request.headers();
    return request.method().equals(HttpMethod.GET)
        && request.protocolVersion().equals(HttpVersion.HTTP_1_1)
        && headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
        && headers.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
        && !headers.contains(HttpHeaderNames.TRANSFER_ENCODING)
        && headers.getInt(HttpHeaderNames.CONTENT_LENGTH, 0) == 0;
  }

  /**
   * Puts the upgrade back into the headers sent upstream (the forwarding rules removed {@code
   * Connection} and {@code Upgrade} as hop-by-hop): {@code Upgrade} as the client sent it and
   * {@code Connection: Upgrade}. Other fields the client's {@code Connection} named stay removed.
   */
  public static void keepUpgrade(HttpHeaders client, HttpHeaders upstream) {
    upstream.set(HttpHeaderNames.UPGRADE, client.getAll(HttpHeaderNames.UPGRADE));
    upstream.set(HttpHeaderNames.CONNECTION, "Upgrade");
  }

  /** The same for the {@code 101} relayed to the client. */
  public static void keepUpgradeResponse(String upgrade, HttpHeaders client) {
    client.set(HttpHeaderNames.UPGRADE, upgrade == null ? "websocket" : upgrade);
    client.set(HttpHeaderNames.CONNECTION, "Upgrade");
  }
}
