package dev.sluice.analysis.replay;

import dev.sluice.request.RequestView;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;

/**
 * One log line as the engine reads a request: method, normalised path, query, the logged client
 * address as the TCP peer (no forwarding headers: the log holds the address after the
 * trusted-proxy walk), at most one header (a raw API key from a JSON log), and the identities the
 * log carries already resolved ({@link RequestView#resolvedIdentities()}).
 */
final class ReplayRequest implements RequestView {
  private final String method;
  private final String path;
  private final String rawQuery;
  private final InetAddress peer;
  private final String headerName;
  private final String headerValue;
  private final Map<String, String> identities;

  ReplayRequest(String method, String path, String rawQuery, InetAddress peer, String headerName, String headerValue,
      Map<String, String> identities) {
    this.method = method;
    this.path = path;
    this.rawQuery = rawQuery;
    this.peer = peer;
    this.headerName = headerName;
    this.headerValue = headerValue;
    this.identities = identities;
  }

  @Override
  public String method() {
    return method;
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
    return headerName != null && headerName.equalsIgnoreCase(name) ? List.of(headerValue) : List.of();
  }

  @Override
  public Map<String, String> resolvedIdentities() {
    return identities;
  }
}
