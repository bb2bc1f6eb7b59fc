package dev.sluice.gateway.live;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.gateway.reload.ConfigVersion;
import dev.sluice.gateway.response.Problems;
import dev.sluice.store.BreakerStatus;
import dev.sluice.store.MemoryStore;
import dev.sluice.store.Store;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The live view's HTTP side on the admin listener (SPEC §10):
 *
 * <ul>
 *   <li>{@code GET /v1/top?window=5m|60m&limit=1..100} (defaults {@code 5m}, {@code 20}): per
 *       policy the identities limited, shadow-limited or blocked most, with counts, per-outcome
 *       counts, last seen and the window's error bound; plus {@code top}, the same across policies.
 *   <li>{@code GET /v1/stats}: per policy the outcome counts per second over the last minute, the
 *       latest audit-worthy decisions, the loaded config version and the store's health.
 *   <li>{@code GET /dashboard} (and its {@code app.js}, {@code app.css}): the page, from the jar.
 * </ul>
 *
 * The {@code /v1/} endpoints sit behind the admin listener's guard (token, Host, Origin) like
 * every admin API endpoint; the page itself holds no data and is served without a token (it asks
 * for the token and sends it on its own calls). A bad parameter is a {@code 400} problem+json.
 *
 * <p>Thread-safe. Answers complete at once except {@code /v1/stats}, which waits at most
 * {@link #PING_TIMEOUT_MILLIS} for the store ping (never on the event loop).
 */
public final class LiveApi {
  static final long PING_TIMEOUT_MILLIS = 1000;
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
      + " img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

  private final LiveView view;
  private final Store store;
  private final Supplier<ConfigVersion> config;
  private final boolean tokenRequired;
  private final String html;
  private final byte[] js;
  private final byte[] css;

  /**
   * @param view what the endpoints report
   * @param store the store whose health {@code /v1/stats} reports (pinged, breaker state)
   * @param config the loaded config version, or a supplier of null when the config API is off
   * @param tokenRequired whether the admin API needs a bearer token (the page then asks for it)
   */
  public LiveApi(LiveView view, Store store, Supplier<ConfigVersion> config, boolean tokenRequired) {
    this.view = Objects.requireNonNull(view, "view");
    this.store = Objects.requireNonNull(store, "store");
    this.config = Objects.requireNonNull(config, "config");
    this.tokenRequired = tokenRequired;
    this.html = new String(resource("dashboard.html"), StandardCharsets.UTF_8)
        .replace("{{TOKEN_REQUIRED}}", Boolean.toString(tokenRequired));
    this.js = resource("dashboard.js");
    this.css = resource("dashboard.css");
  }

  /** Whether {@code path} is served here. */
  public static boolean owns(String path) {
    return path.equals("/v1/top") || path.equals("/v1/stats") || path.equals("/dashboard")
        || path.equals("/dashboard/") || path.equals("/dashboard/app.js") || path.equals("/dashboard/app.css");
  }

  /** Answers a request for a path {@link #owns} says is ours (after the admin guard for {@code /v1/}). */
  public CompletableFuture<FullHttpResponse> handle(HttpMethod method, QueryStringDecoder target) {
    String path = target.path();
    if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
      return done(Problems.methodNotAllowed("Method " + method + " is not allowed on " + path
          + "; expected GET or HEAD.", "GET, HEAD"));
    }
    return switch (path) {
      case "/v1/top" -> done(top(target.parameters()));
      case "/v1/stats" -> stats();
      case "/dashboard/app.js" -> done(asset(js, "text/javascript; charset=utf-8"));
      case "/dashboard/app.css" -> done(asset(css, "text/css; charset=utf-8"));
      default -> done(asset(html.getBytes(StandardCharsets.UTF_8), "text/html; charset=utf-8"));
    };
  }

  FullHttpResponse top(Map<String, List<String>> params) {
    String window = single(params, "window", "5m");
    int limit;
    boolean longWindow;
    if (window == null || !(window.equals("5m") || window.equals("60m") || window.equals("1h"))) {
      return Problems.badRequest("The parameter window must be 5m or 60m (1h), got "
          + quote(params.get("window")) + ".");
    }
    longWindow = !window.equals("5m");
    String limitText = single(params, "limit", "20");
    try {
      limit = limitText == null ? -1 : Integer.parseInt(limitText);
    } catch (NumberFormatException e) {
      limit = -1;
    }
    if (limit < 1 || limit > 100) {
      return Problems.badRequest("The parameter limit must be a whole number from 1 to 100, got "
          + quote(params.get("limit")) + ".");
    }
    ObjectNode body = MAPPER.createObjectNode();
    body.put("window", longWindow ? "60m" : "5m");
    body.put("limit", limit);
    body.put("generated_at", Instant.ofEpochMilli(view.clock().millis()).toString());
    ArrayNode policies = body.putArray("policies");
    List<ObjectNode> all = new ArrayList<>();
    for (Map.Entry<String, TopLimited.Window> e : view.top(longWindow, limit).entrySet()) {
      ObjectNode p = policies.addObject();
      p.put("policy", e.getKey());
      p.put("events", e.getValue().events());
      p.put("max_error", e.getValue().maxError());
      ArrayNode top = p.putArray("top");
      for (TopLimited.Entry entry : e.getValue().top()) {
        ObjectNode item = top.addObject();
        fill(item, entry);
        ObjectNode flat = MAPPER.createObjectNode();
        flat.put("policy", e.getKey());
        fill(flat, entry);
        all.add(flat);
      }
    }
    all.sort((a, b) -> Long.compare(b.get("count").asLong(), a.get("count").asLong()));
    ArrayNode top = body.putArray("top");
    all.stream().limit(limit).forEach(top::add);
    return json(body);
  }

  private static void fill(ObjectNode item, TopLimited.Entry entry) {
    item.put("kind", entry.kind);
    item.put("value", entry.value);
    item.put("count", entry.count);
    for (int o = Outcomes.LIMITED; o < Outcomes.COUNT; o++) {
      item.put(Outcomes.NAMES[o], entry.outcomes[o]);
    }
    item.put("last_seen", Instant.ofEpochMilli(entry.lastSeenMillis).toString());
  }

  CompletableFuture<FullHttpResponse> stats() {
    ObjectNode body = MAPPER.createObjectNode();
    body.put("generated_at", Instant.ofEpochMilli(view.clock().millis()).toString());
    body.put("window_seconds", SecondRates.SECONDS);
    ArrayNode policies = body.putArray("policies");
    for (Map.Entry<String, long[][]> e : view.rates().entrySet()) {
      ObjectNode p = policies.addObject();
      p.put("policy", e.getKey());
      ObjectNode lastMinute = p.putObject("last_minute");
      ObjectNode perSecond = p.putObject("per_second");
      ObjectNode series = p.putObject("series");
      long[][] s = e.getValue();
      for (int o = 0; o < Outcomes.COUNT; o++) {
        long sum = 0;
        ArrayNode values = series.putArray(Outcomes.NAMES[o]);
        for (long v : s[o]) {
          sum += v;
          values.add(v);
        }
        lastMinute.put(Outcomes.NAMES[o], sum);
        perSecond.put(Outcomes.NAMES[o], Math.round(sum * 100.0 / SecondRates.SECONDS) / 100.0);
      }
    }
    ArrayNode recent = body.putArray("recent_events");
    for (RecentEvents.Event event : view.recent()) {
      ObjectNode item = recent.addObject();
      item.put("time", Instant.ofEpochMilli(event.timeMillis()).toString());
      item.put("policy", event.policy());
      item.put("outcome", event.outcome());
      item.put("identity_kind", event.kind());
      item.put("identity", event.identity());
      item.put("client_ip", event.clientIp());
      item.put("method", event.method());
      item.put("path", event.path());
    }
    ConfigVersion version = config.get();
    if (version == null) {
      body.putNull("config");
    } else {
      ObjectNode c = body.putObject("config");
      c.put("version", version.version());
      c.put("sha256", version.sha256());
      c.put("loaded_at", version.loadedAt().toString());
    }
    ObjectNode health = body.putObject("store");
    health.put("type", store instanceof MemoryStore ? "memory"
        : store.getClass().getSimpleName().replace("Store", "").toLowerCase(java.util.Locale.ROOT));
    if (store instanceof BreakerStatus breaker) {
      health.put("breaker", breaker.circuitOpen() ? "open" : "closed");
    } else {
      health.putNull("breaker");
    }
    CompletableFuture<Void> ping;
    try {
      ping = store.ping().toCompletableFuture().orTimeout(PING_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (RuntimeException e) {
      ping = CompletableFuture.failedFuture(e);
    }
    return ping.handle((ok, failure) -> {
      health.put("up", failure == null);
      if (failure != null) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
            ? failure.getCause() : failure;
        health.put("detail", cause instanceof java.util.concurrent.TimeoutException
            ? "no answer within " + PING_TIMEOUT_MILLIS + " ms" : String.valueOf(cause.getMessage()));
      }
      return json(body);
    });
  }

  /** The single value of a parameter, its default when absent, or null when given more than once. */
  private static String single(Map<String, List<String>> params, String name, String fallback) {
    List<String> values = params.get(name);
    if (values == null || values.isEmpty()) {
      return fallback;
    }
    return values.size() == 1 ? values.get(0) : null;
  }

  private static String quote(List<String> values) {
    if (values == null) {
      return "nothing";
    }
    StringBuilder out = new StringBuilder();
    for (String v : values) {
      if (out.length() > 0) {
        out.append(" and ");
      }
      out.append('"');
      for (int i = 0; i < v.length() && i < 40; i++) {
        char c = v.charAt(i);
        out.append(c >= 0x20 && c < 0x7F && c != '"' && c != '\\' ? c : '?');
      }
      out.append('"');
    }
    return out.toString();
  }

  private FullHttpResponse asset(byte[] bytes, String type) {
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
        Unpooled.wrappedBuffer(bytes));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
    response.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
    response.headers().set("Content-Security-Policy", CSP);
    response.headers().set("X-Content-Type-Options", "nosniff");
    response.headers().set("X-Frame-Options", "DENY");
    response.headers().set("Referrer-Policy", "no-referrer");
    return response;
  }

  private static FullHttpResponse json(ObjectNode body) {
    byte[] bytes;
    try {
      bytes = MAPPER.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise the live view", e);
    }
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
        Unpooled.wrappedBuffer(bytes));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
    response.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
    return response;
  }

  private static CompletableFuture<FullHttpResponse> done(FullHttpResponse response) {
    return CompletableFuture.completedFuture(response);
  }

  private static byte[] resource(String name) {
    try (InputStream in = LiveApi.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("the jar lacks the dashboard resource " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the dashboard resource " + name, e);
    }
  }
}
