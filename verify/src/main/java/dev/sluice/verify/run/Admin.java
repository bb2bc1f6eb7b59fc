package dev.sluice.verify.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The deployment's admin API (SPEC §7), for the ban check: ban a fresh address, then lift it. */
public final class Admin {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final URI base;
  private final String token;
  private final Duration timeout;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  /** The admin API at {@code base}; {@code token} = the bearer token, or {@code null}. */
  public Admin(URI base, String token, Duration timeout) {
    this.base = base;
    this.token = token;
    this.timeout = timeout;
  }

  /** An answer: status, the ban id when one was created, the body. */
  public record Answer(int status, String id, String body) {}

  /** {@code POST /v1/bans} for the address {@code ip}. */
  public Answer ban(String ip, String duration) throws IOException, InterruptedException {
    String json = "{\"identity\": {\"kind\": \"ip\", \"value\": \"" + ip + "\"}, \"duration\": \"" + duration + "\"}";
    HttpResponse<String> r = http.send(request("/v1/bans").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    String id = null;
    try {
      JsonNode node = JSON.readTree(r.body());
      id = node != null && node.has("id") ? node.get("id").asText() : null;
    } catch (IOException e) {
      // no id: reported by the caller with the body
    }
    return new Answer(r.statusCode(), id, r.body());
  }

  /** {@code DELETE /v1/bans/{id}}. */
  public int unban(String id) throws IOException {
    try {
      return http.send(request("/v1/bans/" + id).DELETE().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private HttpRequest.Builder request(String path) {
    String prefix = base.toString().endsWith("/") ? base.toString().substring(0, base.toString().length() - 1)
        : base.toString();
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(prefix + path)).timeout(timeout)
        .header("User-Agent", "sluice-verify (+docs/verify.md)");
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }
}
