package dev.sluice.identity;

import dev.sluice.request.RequestView;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** A mutable {@link RequestView} for tests: {@code TestRequest.from("10.0.0.1").header("X", "v")}. */
final class TestRequest implements RequestView {
  private final InetAddress peer;
  private final Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
  private String method = "GET";
  private String path = "/";
  private String rawQuery;
  private byte[] body;

  private TestRequest(InetAddress peer) {
    this.peer = peer;
  }

  /** A request from this peer; the address literal is parsed without DNS. */
  static TestRequest from(String peerLiteral) {
    InetAddress address = IpLiteral.parse(peerLiteral);
    if (address == null) {
      throw new IllegalArgumentException("not an IP literal: " + peerLiteral);
    }
    return new TestRequest(address);
  }

  /** A request from a raw 16-byte address, kept as {@link java.net.Inet6Address} even when mapped. */
  static TestRequest fromInet6(byte[] bytes) {
    try {
      return new TestRequest(java.net.Inet6Address.getByAddress(null, bytes, -1));
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /** Adds one header line. */
  TestRequest header(String name, String value) {
    headers.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
    return this;
  }

  /** The buffered body prefix ({@link RequestView#bodyPrefix()}); {@code null} = not buffered. */
  TestRequest body(byte[] body) {
    this.body = body;
    return this;
  }

  /** A complete UTF-8 body with this Content-Type and a matching Content-Length. */
  TestRequest body(String contentType, String text) {
    byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return header("Content-Type", contentType).header("Content-Length", Integer.toString(bytes.length)).body(bytes);
  }

  @Override
  public byte[] bodyPrefix() {
    return body;
  }

  TestRequest query(String rawQuery) {
    this.rawQuery = rawQuery;
    return this;
  }

  TestRequest method(String method) {
    this.method = method.toUpperCase(Locale.ROOT);
    return this;
  }

  TestRequest path(String path) {
    this.path = path;
    return this;
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
    return List.copyOf(headers.getOrDefault(name, List.of()));
  }
}
