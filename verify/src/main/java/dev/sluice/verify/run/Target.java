package dev.sluice.verify.run;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The deployment under test: HTTP/1.1 with keep-alive, a {@code User-Agent} saying what is
 * calling, a timeout on every request, and a hard cap on the number of requests (the plan's
 * bound), so a bug here can never turn verify into a flood.
 */
public final class Target {
  private final URI base;
  private final HttpClient http;
  private final Duration timeout;
  private final String userAgent;
  private final int maxRequests;
  private final AtomicInteger sent = new AtomicInteger();

  /** A target at {@code base} ({@code http://host:port}) sending at most {@code maxRequests}. */
  public Target(URI base, Duration timeout, String userAgent, int maxRequests) {
    this.base = base;
    this.timeout = timeout;
    this.userAgent = userAgent;
    this.maxRequests = maxRequests;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NEVER).build();
  }

  /** How many requests were sent. */
  public int sent() {
    return sent.get();
  }

  /**
   * Sends one request with an empty body.
   *
   * @throws IOException when the target cannot be reached or does not answer in time
   * @throws IllegalStateException when the request bound would be exceeded
   */
  public HttpResponse<String> send(String method, String pathAndQuery, List<String[]> headers)
      throws IOException, InterruptedException {
    return send(method, pathAndQuery, headers, null);
  }

  /** {@link #send(String, String, List)} with a JSON body ({@code null} = none). */
  public HttpResponse<String> send(String method, String pathAndQuery, List<String[]> headers, String json)
      throws IOException, InterruptedException {
    if (sent.incrementAndGet() > maxRequests) {
      throw new IllegalStateException("request bound of " + maxRequests + " reached");
    }
    String prefix = base.toString().endsWith("/") ? base.toString().substring(0, base.toString().length() - 1)
        : base.toString();
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(prefix + pathAndQuery)).timeout(timeout)
        .header("User-Agent", userAgent)
        .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    for (String[] h : headers) {
      b.header(h[0], h[1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
