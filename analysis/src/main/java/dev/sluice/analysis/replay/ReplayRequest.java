package dev.sluice.analysis.replay;

import dev.sluice.request.RequestView;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;

/**
 * One log line as the engine reads a request: method, normalised path, query, the logged client
 * address as the TCP peer (no forwarding headers: the log holds the address after the
 * trusted-proxy walk), at most one header (a raw API key from a JSON log), and the identities the
 * log carries already resolved ({@link RequestView#resolvedIdentities()}). A record: its
 * components are {@link RequestView}'s accessors.
 */
record ReplayRequest(String method, String path, String rawQuery, InetAddress peerAddress, String headerName,
    String headerValue, Map<String, String> resolvedIdentities) implements RequestView {

  @Override
  public List<String> headers(String name) {
    return headerName != null && headerName.equalsIgnoreCase(name) ? List.of(headerValue) : List.of();
  }
}
