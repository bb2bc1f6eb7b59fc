package dev.sluice.gateway.proxy;

import dev.sluice.request.RequestView;
import io.netty.handler.codec.http.HttpRequest;
import java.net.InetAddress;
import java.util.List;

/** Adapts a decoded Netty request head to the engine's {@link RequestView}. */
final class NettyRequestView implements RequestView {
  private final HttpRequest request;
  private final String path;
  private final String rawQuery;
  private final InetAddress peer;
  private final byte[] bodyPrefix;

  NettyRequestView(HttpRequest request, String normalisedPath, String rawQuery, InetAddress peer) {
    this(request, normalisedPath, rawQuery, peer, null);
  }

  /**
   * @param bodyPrefix the buffered start of the body (at most {@link RequestView#BODY_PREFIX_LIMIT}
   *     bytes, de-chunked), or null when the body was not buffered
   */
  NettyRequestView(HttpRequest request, String normalisedPath, String rawQuery, InetAddress peer, byte[] bodyPrefix) {
    this.bodyPrefix = bodyPrefix;
    this.request = request;
    this.path = normalisedPath;
    this.rawQuery = rawQuery;
    this.peer = peer;
  }

  @Override
  public String method() {
    return request.method().name();
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public String rawQuery() {
    return rawQuery;
  }

  @Override
  public InetAddress peerAddress() {
    return peer;
  }

  @Override
  public List<String> headers(String name) {
    return request.headers().getAll(name);
  }

  @Override
  public byte[] bodyPrefix() {
    return bodyPrefix;
  }

  @Override
  public String toString() {
    return method() + " " + path;
  }
}
