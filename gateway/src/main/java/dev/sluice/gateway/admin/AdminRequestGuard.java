package dev.sluice.gateway.admin;

import dev.sluice.gateway.response.Problems;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The checks every admin API request ({@code /v1/...}: the ban API and every endpoint added
 * beside it) passes before its handler runs, so that neither a web page in an operator's browser
 * nor a DNS-rebinding page can use the API, with or without a token (issue 9, point 4).
 *
 * <p>In order, each refusal a problem+json:
 * <ol>
 *   <li>more than one {@code Authorization}, {@code Host}, {@code Origin} or {@code Content-Type}
 *       field → {@code 400} (two credentials, or two hosts, leave it to chance which one a check
 *       reads);
 *   <li>{@code Host} missing, or not this listener → {@code 403}. Accepted: the address the
 *       connection arrived on with the listener's port ({@code 127.0.0.1:9090},
 *       {@code [::1]:9090}, {@code 10.0.0.5:9090} on a wildcard listener), {@code localhost:<port>}
 *       when that address is loopback, and the names of {@code gateway.admin_hosts} — {@code name}
 *       with any port, {@code name:port} with that port only. A DNS-rebinding page sends its own
 *       name here and is refused;
 *   <li>{@code Origin} present and not this listener's own origin ({@code http://} followed by an
 *       authority {@code Host} accepts; {@code https://} too for an {@code admin_hosts} name, which
 *       may sit behind a TLS proxy; {@code Origin: null} never) → {@code 403}: browsers send
 *       {@code Origin} on every cross-site POST and DELETE, even on those "simple" requests that
 *       skip the CORS preflight;
 *   <li>the bearer token, when one is configured → {@code 401} (compared in constant time:
 *       SHA-256 digests with {@link MessageDigest#isEqual}, so neither content nor length leaks);
 *   <li>a body (or a {@code Content-Type}) that is not {@code application/json} → {@code 415}: a
 *       cross-site HTML form can only send {@code text/plain}, {@code multipart/form-data} and
 *       {@code application/x-www-form-urlencoded}.
 * </ol>
 * Duplicate keys inside the JSON body are the handlers' part ({@link AdminJson}).
 *
 * <p>Immutable and thread-safe; one per admin listener.
 */
public final class AdminRequestGuard {
  private static final AsciiString[] SINGLE = {
    HttpHeaderNames.AUTHORIZATION, HttpHeaderNames.HOST, HttpHeaderNames.ORIGIN, HttpHeaderNames.CONTENT_TYPE
  };
  private static final Pattern IPV4 = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
  private static final Pattern IPV6 = Pattern.compile("[0-9a-f:.]+");

  private final byte[] tokenDigest;
  private final List<String> hosts;

  /**
   * @param adminToken the bearer token the API requires; empty = none
   * @param adminHosts extra names for {@code Host}/{@code Origin} ({@code gateway.admin_hosts}),
   *     each {@code name} or {@code name:port}; compared case-insensitively
   */
  public AdminRequestGuard(Optional<String> adminToken, Collection<String> adminHosts) {
    Objects.requireNonNull(adminToken, "adminToken");
    this.tokenDigest = adminToken.map(AdminRequestGuard::sha256).orElse(null);
    this.hosts = adminHosts.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList();
  }

  /** Whether a token is required. */
  public boolean requiresToken() {
    return tokenDigest != null;
  }

  /**
   * Runs every check on an admin API request that arrived on a connection whose local address is
   * {@code local}.
   *
   * @return the refusal to send, or {@code null} when the request may proceed
   */
  public FullHttpResponse check(FullHttpRequest request, SocketAddress local) {
    for (AsciiString name : SINGLE) {
      if (request.headers().getAll(name).size() > 1) {
        return Problems.badRequest("The admin API refuses a request with more than one " + name
            + " header field.");
      }
    }
    String host = request.headers().get(HttpHeaderNames.HOST);
    if (host == null || !accepts(host.strip(), 80, false, local)) {
      return Problems.forbidden("The admin API answers only requests addressed to this listener (Host "
          + (host == null ? "missing" : "\"" + printable(host) + "\"") + "); expected its address and port,"
          + " localhost on a loopback listener, or a name listed in gateway.admin_hosts.");
    }
    String origin = request.headers().get(HttpHeaderNames.ORIGIN);
    if (origin != null && !ownOrigin(origin.strip(), local)) {
      return Problems.forbidden("The admin API refuses requests from another origin (Origin \""
          + printable(origin) + "\"); a web page cannot use it. Send the request without Origin (curl,"
          + " scripts) or from the admin listener's own origin.");
    }
    FullHttpResponse unauthorized = checkToken(request);
    if (unauthorized != null) {
      return unauthorized;
    }
    String type = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
    boolean body = request.content().isReadable();
    if ((type != null && !isJson(type)) || (type == null && body)) {
      return Problems.simple(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "The admin API accepts only JSON bodies"
          + " with Content-Type: application/json" + (type == null ? "; the request has a body without one."
          : ", got \"" + printable(type) + "\"."));
    }
    return null;
  }

  /**
   * The token check alone (also for {@code /metrics}): {@code 400} for two {@code Authorization}
   * fields, {@code 401} with a {@code Bearer} challenge for a missing or wrong token, {@code null}
   * when it passes or no token is configured.
   */
  public FullHttpResponse checkToken(HttpRequest request) {
    List<String> values = request.headers().getAll(HttpHeaderNames.AUTHORIZATION);
    if (values.size() > 1) {
      return Problems.badRequest("The admin API refuses a request with more than one authorization header field.");
    }
    if (tokenDigest == null) {
      return null;
    }
    String header = values.isEmpty() ? null : values.get(0);
    // Scheme names are case-insensitive (RFC 9110 §11.1).
    boolean ok = header != null && header.length() >= 7 && header.regionMatches(true, 0, "Bearer ", 0, 7)
        && MessageDigest.isEqual(tokenDigest, sha256(header.substring(7).strip()));
    return ok ? null : Problems.unauthorized("The admin API needs the header Authorization: Bearer <token> with the"
        + " token from the environment variable named by gateway.admin_token_env.");
  }

  private boolean ownOrigin(String origin, SocketAddress local) {
    String lower = origin.toLowerCase(Locale.ROOT);
    if (lower.startsWith("http://")) {
      return accepts(lower.substring(7), 80, false, local);
    }
    if (lower.startsWith("https://")) {
      return accepts(lower.substring(8), 443, true, local);
    }
    return false; // "null", other schemes, garbage
  }

  /**
   * Whether {@code authority} ({@code host[:port]}) names this listener; {@code namesOnly} admits
   * only {@code admin_hosts} entries (an https origin cannot be the plain-HTTP listener itself).
   */
  private boolean accepts(String authority, int defaultPort, boolean namesOnly, SocketAddress local) {
    String lower = authority.toLowerCase(Locale.ROOT);
    String host;
    String portText;
    if (lower.startsWith("[")) {
      int close = lower.indexOf(']');
      if (close < 0) {
        return false;
      }
      host = lower.substring(0, close + 1);
      portText = lower.substring(close + 1);
    } else {
      int colon = lower.indexOf(':');
      host = colon < 0 ? lower : lower.substring(0, colon);
      portText = colon < 0 ? "" : lower.substring(colon);
    }
    int port;
    if (portText.isEmpty()) {
      port = defaultPort;
    } else if (portText.matches(":[0-9]{1,5}")) {
      port = Integer.parseInt(portText.substring(1));
    } else {
      return false;
    }
    for (String name : hosts) {
      if (name.equals(host) || name.equals(host + ":" + port)) {
        return true;
      }
    }
    if (namesOnly || !(local instanceof InetSocketAddress listener) || port != listener.getPort()) {
      return false;
    }
    InetAddress address = listener.getAddress();
    if (host.equals("localhost")) {
      return address != null && address.isLoopbackAddress();
    }
    InetAddress literal = literal(host);
    return literal != null && literal.equals(address);
  }

  /** An IP literal ({@code 1.2.3.4} or {@code [::1]}) without DNS, or null. */
  private static InetAddress literal(String host) {
    String text;
    if (host.startsWith("[") && host.endsWith("]") && IPV6.matcher(host.substring(1, host.length() - 1)).matches()) {
      text = host.substring(1, host.length() - 1);
    } else if (IPV4.matcher(host).matches()) {
      text = host;
    } else {
      return null;
    }
    try {
      return InetAddress.getByName(text); // a literal: parsed, never looked up
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static boolean isJson(String contentType) {
    int semicolon = contentType.indexOf(';');
    String media = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip();
    return media.equalsIgnoreCase("application/json");
  }

  /** A header value safe to quote in a problem detail: printable ASCII, at most 100 characters. */
  private static String printable(String value) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < value.length() && out.length() < 100; i++) {
      char c = value.charAt(i);
      out.append(c >= 0x20 && c < 0x7F && c != '"' && c != '\\' ? c : '?');
    }
    return out.toString();
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JVM provides SHA-256", e);
    }
  }
}
