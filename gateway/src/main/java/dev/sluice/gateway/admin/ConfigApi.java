package dev.sluice.gateway.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.gateway.reload.ConfigVersion;
import dev.sluice.gateway.reload.PolicyReloader;
import dev.sluice.gateway.reload.ReloadResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The config admin API (SPEC §9), behind the admin token like the ban API:
 *
 * <ul>
 *   <li>{@code GET /v1/config}: {@code {"version", "sha256", "loaded_at", "file", "history":
 *       [{"version", "sha256", "loaded_at"}, …]}} (history oldest first, at most 10);
 *   <li>{@code POST /v1/config/reload}: re-reads the policy file. {@code 200} with the version in
 *       force ({@code "changed": false} when the bytes were the same), or {@code 422}
 *       problem+json whose {@code errors} lists every {@code file:line:col: message} (or the
 *       settings that need a restart) — nothing changed;
 *   <li>{@code POST /v1/config/rollback}: body empty or {@code {"version": n}}: {@code 200}, or
 *       {@code 404} problem+json when that version is not kept, {@code 400} for a bad body.
 * </ul>
 *
 * <p>Reloads run on {@code executor}, never on the event loop (reading and validating a file
 * blocks); the answer is completed from there.
 */
public final class ConfigApi {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final PolicyReloader reloader;
  private final Executor executor;

  /**
   * @param reloader does the work
   * @param executor where reloads and rollbacks run (one thread is enough: they are serialised)
   */
  public ConfigApi(PolicyReloader reloader, Executor executor) {
    this.reloader = Objects.requireNonNull(reloader, "reloader");
    this.executor = Objects.requireNonNull(executor, "executor");
  }

  /** Whether {@code path} is this API's. */
  static boolean owns(String path) {
    return path.equals("/v1/config") || path.startsWith("/v1/config/");
  }

  /** The loaded version (for the live view's {@code /v1/stats}). */
  dev.sluice.gateway.reload.ConfigVersion current() {
    return reloader.current();
  }

  CompletableFuture<FullHttpResponse> show() {
    ConfigVersion current = reloader.current();
    ObjectNode body = MAPPER.createObjectNode();
    body.put("version", current.version());
    body.put("sha256", current.sha256());
    body.put("loaded_at", current.loadedAt().toString());
    body.put("file", current.file());
    ArrayNode history = body.putArray("history");
    for (ConfigVersion v : reloader.history()) {
      ObjectNode item = history.addObject();
      item.put("version", v.version());
      item.put("sha256", v.sha256());
      item.put("loaded_at", v.loadedAt().toString());
    }
    return CompletableFuture.completedFuture(json(HttpResponseStatus.OK, body));
  }

  CompletableFuture<FullHttpResponse> reload() {
    return CompletableFuture.supplyAsync(() -> answer(reloader.reload(), "reload"), executor);
  }

  CompletableFuture<FullHttpResponse> rollback(ByteBuf content) {
    Integer version;
    try {
      version = requestedVersion(content);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(problem(HttpResponseStatus.BAD_REQUEST, e.getMessage(), List.of()));
    }
    return CompletableFuture.supplyAsync(() -> answer(reloader.rollback(version), "rollback"), executor);
  }

  private static Integer requestedVersion(ByteBuf content) {
    if (content == null || content.readableBytes() == 0) {
      return null;
    }
    JsonNode node;
    try {
      node = AdminJson.MAPPER.readTree(content.toString(StandardCharsets.UTF_8)); // duplicate keys refused
    } catch (IOException e) {
      throw new IllegalArgumentException("The body is not JSON; expected nothing or {\"version\": n}.");
    }
    if (node == null || node.isMissingNode() || (node.isObject() && node.isEmpty())) {
      return null;
    }
    if (!node.isObject() || !node.has("version") || node.size() != 1) {
      throw new IllegalArgumentException("Expected nothing or {\"version\": n}, got " + node + ".");
    }
    JsonNode v = node.get("version");
    if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 1) {
      throw new IllegalArgumentException("\"version\" must be a positive whole number, got " + v + ".");
    }
    return v.asInt();
  }

  private static FullHttpResponse answer(ReloadResult result, String what) {
    if (result.ok()) {
      ObjectNode body = MAPPER.createObjectNode();
      body.put("result", "success");
      body.put("changed", result.changed());
      body.put("version", result.version().version());
      body.put("sha256", result.version().sha256());
      body.put("loaded_at", result.version().loadedAt().toString());
      return json(HttpResponseStatus.OK, body);
    }
    if (result.kind() == ReloadResult.Kind.UNKNOWN_VERSION) {
      return problem(HttpResponseStatus.NOT_FOUND, result.errors().get(0) + ".", result.errors());
    }
    return problem(HttpResponseStatus.UNPROCESSABLE_ENTITY,
        "The " + what + " was refused and version " + result.version().version() + " stays in force: "
            + result.errors().get(0) + (result.errors().size() > 1 ? " (and " + (result.errors().size() - 1) + " more)" : ""),
        result.errors());
  }

  private static FullHttpResponse problem(HttpResponseStatus status, String detail, List<String> errors) {
    ObjectNode body = MAPPER.createObjectNode();
    body.put("type", "about:blank");
    body.put("title", status.reasonPhrase());
    body.put("status", status.code());
    body.put("detail", detail);
    if (!errors.isEmpty()) {
      ArrayNode list = body.putArray("errors");
      errors.forEach(list::add);
    }
    FullHttpResponse response = json(status, body);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/problem+json");
    return response;
  }

  private static FullHttpResponse json(HttpResponseStatus status, JsonNode body) {
    byte[] bytes;
    try {
      bytes = MAPPER.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise " + body, e);
    }
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
    response.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
    return response;
  }
}
