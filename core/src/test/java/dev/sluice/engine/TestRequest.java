package dev.sluice.engine;

import dev.sluice.request.RequestView;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A request for engine tests; counts header reads so tests can see how often identities resolve. */
final class TestRequest implements RequestView {
  private final String method;
  private final String path;
  private final InetAddress peer;
  private final Map<String, List<String>> headers = new HashMap<>();
  private final Map<String, Integer> reads = new HashMap<>();

  private TestRequest(String method, String path, InetAddress peer) {
    this.method = method;
    this.path = path;
    this.peer = peer;
  }

  static TestRequest get(String path) {
    return of("GET", path);
  }

  static TestRequest of(String method, String path) {
    return new TestRequest(method, path, address("192.0.2.10"));
  }

  TestRequest from(String peerAddress) {
    TestRequest copy = new TestRequest(method, path, address(peerAddress));
    copy.headers.putAll(headers);
    return copy;
  }

  TestRequest header(String name, String value) {
    headers.computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(value);
    return this;
  }

  int reads(String header) {
    return reads.getOrDefault(header.toLowerCase(Locale.ROOT), 0);
  }

  static InetAddress address(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(literal, e);
    }
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
    return null;
  }

  @Override
  public InetAddress peerAddress() {
    return peer;
  }

  @Override
  public List<String> headers(String name) {
    String key = name.toLowerCase(Locale.ROOT);
    reads.merge(key, 1, Integer::sum);
    return headers.getOrDefault(key, List.of());
  }

  @Override
  public String toString() {
    return method + " " + path + " from " + peer.getHostAddress();
  }
}
