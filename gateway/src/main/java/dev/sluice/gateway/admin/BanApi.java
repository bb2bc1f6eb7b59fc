package dev.sluice.gateway.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.engine.BanLifter;
import dev.sluice.engine.BanList;
import dev.sluice.gateway.response.Problems;
import dev.sluice.identity.Cidr;
import dev.sluice.identity.Identity;
import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.store.Ban;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.format.DateTimeFormatter;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The ban resources of the admin API (SPEC §7): {@code GET /v1/bans}, {@code POST /v1/bans},
 * {@code DELETE /v1/bans/{id}}. Bans are written through the engine's {@link BanList}, so they land
 * in the store (shared by every instance) and in this instance's replica at once.
 *
 * <p>A posted identity is turned into the same identity key the engine resolves for requests, so
 * the ban matches them: {@code ip} through {@link IdentityResolver#ipValue(InetAddress)} (IPv6
 * grouped by {@code ipv6_prefix}) after parsing the literal without DNS; secret and personal kinds
 * ({@code api_key}, {@code session}, {@code header:<Name>}, {@code body:<field>}) hashed by the
 * resolver itself; {@code user} as the raw claim (the engine keys verified users by their claim).
 * Composites and {@code global} are refused: ban a part instead.
 *
 * <p>Thread-safe; every call returns at once with a stage (the store may be remote).
 */
final class BanApi {
  /** Longest ban the API accepts: one year (a "permanent" ban belongs in {@code block:}). */
  static final Duration MAX_BAN = Duration.ofDays(365);

  private static final ObjectMapper MAPPER = AdminJson.MAPPER;
  /** The query parameter of {@code DELETE /v1/bans/{id}} that keeps the offence count. */
  static final String KEEP_OFFENCES = "keep_offences";
  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");
  private static final Pattern BAN_ID = Pattern.compile("[0-9a-f]{16}");
  /** Header name used to let the resolver hash a secret exactly as it hashes request values. */

  private final BanList bans;
  /** The policies in force now (a reload may change them): ban scopes and identity rules. */
  private final java.util.function.Supplier<PolicySet> policies;
  private final InstantSource wallClock;
  private final BanLifter lifter;

  BanApi(BanList bans, PolicySet policies, InstantSource wallClock, BanLifter lifter) {
    this(bans, () -> policies, wallClock, lifter);
    Objects.requireNonNull(policies, "policies");
  }

  BanApi(BanList bans, java.util.function.Supplier<PolicySet> policies, InstantSource wallClock, BanLifter lifter) {
    this.lifter = Objects.requireNonNull(lifter, "lifter");
    this.bans = Objects.requireNonNull(bans, "bans");
    this.policies = Objects.requireNonNull(policies, "policies");
    this.wallClock = Objects.requireNonNull(wallClock, "wallClock");
  }

  /** {@code GET /v1/bans}: {@code {"bans": [...]}} of this instance's replica (refreshed every 250 ms). */
  CompletableFuture<FullHttpResponse> list() {
    long now = wallClock.millis();
    ArrayNode array = MAPPER.createArrayNode();
    for (Ban ban : bans.bans()) {
      array.add(toJson(ban, now));
    }
    ObjectNode body = MAPPER.createObjectNode();
    body.set("bans", array);
    return CompletableFuture.completedFuture(json(HttpResponseStatus.OK, body));
  }

  /** {@code POST /v1/bans}: 201 with the ban, 400 naming the bad field, 503 when the store fails. */
  CompletableFuture<FullHttpResponse> create(ByteBuf content) {
    Ban ban;
    try {
      ban = parse(content);
    } catch (BadField e) {
      return CompletableFuture.completedFuture(Problems.badRequest(e.getMessage()));
    }
    return bans.put(ban).toCompletableFuture().handle((ok, error) -> {
      if (error != null) {
        return Problems.serviceUnavailable("The ban could not be stored: " + rootMessage(error));
      }
      FullHttpResponse response = json(HttpResponseStatus.CREATED, toJson(ban, wallClock.millis()));
      response.headers().set(HttpHeaderNames.LOCATION, "/v1/bans/" + ban.id());
      return response;
    });
  }

  /**
   * {@code DELETE /v1/bans/{id}[?keep_offences=true]}: lifts the ban for real (see
   * {@link BanLifter}): the identity's buckets under the ban's scope are forgotten and, unless
   * {@code keep_offences=true}, its offence count too. 204 when a ban was lifted, 404 when there
   * was none, 400 for another parameter or value, 503 when the store fails (retry: the ban may
   * still hold).
   */
  CompletableFuture<FullHttpResponse> delete(String id, Map<String, List<String>> parameters) {
    if (!BAN_ID.matcher(id).matches()) {
      return CompletableFuture.completedFuture(Problems.notFound(
          "No ban with id \"" + id + "\"; ban ids are 16 lower-case hex digits, as listed by GET /v1/bans."));
    }
    boolean keepOffences;
    try {
      keepOffences = keepOffences(parameters);
    } catch (BadField e) {
      return CompletableFuture.completedFuture(Problems.badRequest(e.getMessage()));
    }
    return lifter.lift(id, policies.get(), keepOffences).toCompletableFuture().handle((lifted, error) -> {
      if (error != null) {
        return Problems.serviceUnavailable("The ban could not be lifted: " + rootMessage(error));
      }
      if (lifted.isEmpty()) {
        return Problems.notFound("No ban with id \"" + id + "\" (it may have expired or been removed already).");
      }
      FullHttpResponse response =
          new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT, Unpooled.EMPTY_BUFFER);
      response.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
      return response;
    });
  }

  private static boolean keepOffences(Map<String, List<String>> parameters) throws BadField {
    for (Map.Entry<String, List<String>> p : parameters.entrySet()) {
      if (!p.getKey().equals(KEEP_OFFENCES)) {
        throw new BadField("Unknown query parameter \"" + p.getKey() + "\"; expected only " + KEEP_OFFENCES
            + "=true or " + KEEP_OFFENCES + "=false.");
      }
    }
    List<String> values = parameters.getOrDefault(KEEP_OFFENCES, List.of());
    if (values.isEmpty()) {
      return false;
    }
    if (values.size() > 1 || !(values.get(0).equals("true") || values.get(0).equals("false"))) {
      throw new BadField("Query parameter " + KEEP_OFFENCES + " must be given once, as true or false; got "
          + values + ".");
    }
    return values.get(0).equals("true");
  }

  // ---------------------------------------------------------------- request parsing

  private Ban parse(ByteBuf content) throws BadField {
    JsonNode root;
    try {
      root = AdminJson.read(content, "{\"identity\": {\"kind\": \"ip\", \"value\": \"203.0.113.7\"},"
          + " \"duration\": \"10m\", \"policy\": \"login\"}");
    } catch (AdminJson.BadJson e) {
      throw new BadField(e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw new BadField("The request body must be a JSON object with \"identity\" and \"duration\".");
    }
    for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!List.of("identity", "duration", "policy", "reason").contains(name)) {
        throw new BadField("Unknown field \"" + name + "\"; expected identity, duration, policy (optional)"
            + " and reason (optional).");
      }
    }
    JsonNode identityNode = root.get("identity");
    if (identityNode == null || !identityNode.isObject()) {
      throw new BadField("Field \"identity\" is missing or not an object; expected {\"kind\": \"ip\", \"value\": \"203.0.113.7\"}.");
    }
    String kind = text(identityNode, "identity.kind");
    String value = text(identityNode, "identity.value");
    String identityKey = identityKey(kind, value);
    Duration duration = duration(text(root, "duration"));
    String scope = Ban.ALL_POLICIES;
    if (root.has("policy") && !root.get("policy").isNull()) {
      String policy = text(root, "policy");
      if (!policyExists(policy)) {
        throw new BadField("Field \"policy\": no policy named \"" + policy + "\"; expected one of "
            + policyNames() + ", or no policy to ban under every policy.");
      }
      scope = policy;
    }
    String reason = "banned through the admin API for " + durationText(duration);
    if (root.has("reason") && !root.get("reason").isNull()) {
      String given = text(root, "reason");
      if (given.length() > 200 || given.chars().anyMatch(c -> c < 0x20)) {
        throw new BadField("Field \"reason\" must be at most 200 characters without control characters.");
      }
      reason = given;
    }
    long expires = wallClock.millis() + duration.toMillis();
    return Ban.of(scope, identityKey, expires, reason);
  }

  private static String text(JsonNode node, String path) throws BadField {
    String field = path.substring(path.lastIndexOf('.') + 1);
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      throw new BadField("Field \"" + path + "\" is missing.");
    }
    if (!value.isTextual() || value.asText().isBlank()) {
      throw new BadField("Field \"" + path + "\" must be a non-empty string, got " + value + ".");
    }
    return value.asText();
  }

  /** The identity key ({@code Identity.key()}) the engine would resolve for a request with this value. */
  String identityKey(String kind, String value) throws BadField {
    IdentitySpec spec;
    try {
      spec = IdentitySpec.parse(kind);
    } catch (IllegalArgumentException e) {
      throw new BadField("Field \"identity.kind\": " + e.getMessage());
    }
    IdentityResolver resolver = policies.get().identity();
    String resolved = switch (spec.kind()) {
      case IP -> resolver.ipValue(ipLiteral(value));
      case USER -> value;
      case API_KEY, SESSION, HEADER, BODY -> secretValue(resolver, value);
      case GLOBAL, COMPOSITE -> throw new BadField("Field \"identity.kind\": \"" + kind
          + "\" cannot be banned through the API; expected ip, api_key, user, session, header:<Name> or body:<field>"
          + (spec.kind() == IdentityKind.COMPOSITE ? " (ban one part of the composite instead)" : ""));
    };
    return new Identity(spec, resolved).key();
  }

  private static InetAddress ipLiteral(String value) throws BadField {
    if (value.indexOf('/') >= 0) {
      throw new BadField("Field \"identity.value\": \"" + value + "\" is a network; expected one IPv4 or IPv6 address"
          + " (IPv6 addresses are grouped by ipv6_prefix like requests are).");
    }
    try {
      // Cidr.parse reads literals only (never DNS); a bare address is a single host.
      return Cidr.parse(value).network();
    } catch (IllegalArgumentException e) {
      throw new BadField("Field \"identity.value\": \"" + value + "\" is not an IPv4 or IPv6 address.");
    }
  }

  /** The identity value of a secret, hashed exactly as the resolver hashes it in requests. */
  private static String secretValue(IdentityResolver resolver, String value) throws BadField {
    String hashed = resolver.secretValue(value);
    if (hashed == null) {
      throw new BadField("Field \"identity.value\" is empty after trimming.");
    }
    return hashed;
  }

  static Duration duration(String text) throws BadField {
    Matcher m = DURATION.matcher(text.strip());
    if (!m.matches()) {
      throw new BadField("Field \"duration\": \"" + text + "\" is not a duration; expected a whole number and a unit"
          + " (ms, s, m, h, d), e.g. \"10m\".");
    }
    long n = Long.parseLong(m.group(1));
    Duration d = switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
    if (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(MAX_BAN) > 0) {
      throw new BadField("Field \"duration\": \"" + text + "\" is out of range; expected 1s to 365d.");
    }
    return d;
  }

  private boolean policyExists(String name) {
    PolicySet set = policies.get();
    return set.policies().stream().anyMatch(p -> p.name().equals(name))
        || set.defaults().map(p -> p.name().equals(name)).orElse(false);
  }

  private String policyNames() {
    List<String> names = policies.get().policies().stream().map(Policy::name).toList();
    return names.isEmpty() ? "(none)" : String.join(", ", names);
  }

  private static String durationText(Duration d) {
    return dev.sluice.time.DurationText.format(d);
  }

  // ---------------------------------------------------------------- responses

  private static ObjectNode toJson(Ban ban, long nowMillis) {
    ObjectNode node = MAPPER.createObjectNode();
    node.put("id", ban.id());
    node.put("scope", ban.scope());
    ObjectNode identity = node.putObject("identity");
    String[] kindValue = splitKey(ban.identity());
    identity.put("kind", kindValue[0]);
    identity.put("value", kindValue[1]);
    node.put("expires_at", DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochMilli(ban.expiresAtEpochMillis())));
    long remainingMillis = Math.max(0, ban.expiresAtEpochMillis() - nowMillis);
    node.put("remaining_seconds", (remainingMillis + 999) / 1000);
    node.put("reason", ban.reason());
    return node;
  }

  /**
   * Splits an identity key {@code <spec>:<value>} into its spec text and value. A spec is kinds
   * joined with {@code +}, each a lower-case name optionally followed by {@code :<parameter>} for
   * {@code header} and {@code body}; parameters contain neither {@code :} nor {@code +}. The value
   * is the rest (it may contain {@code :}, e.g. IPv6).
   */
  static String[] splitKey(String key) {
    int i = 0;
    while (true) {
      int start = i;
      while (i < key.length() && ((key.charAt(i) >= 'a' && key.charAt(i) <= 'z') || key.charAt(i) == '_')) {
        i++;
      }
      String kind = key.substring(start, i);
      if (i >= key.length() || key.charAt(i) != ':' && key.charAt(i) != '+') {
        return new String[] {key, ""};
      }
      if ((kind.equals("header") || kind.equals("body")) && key.charAt(i) == ':') {
        i++;
        while (i < key.length() && key.charAt(i) != ':' && key.charAt(i) != '+') {
          i++;
        }
        if (i >= key.length()) {
          return new String[] {key, ""};
        }
      }
      if (key.charAt(i) == ':') {
        return new String[] {key.substring(0, i), key.substring(i + 1)};
      }
      i++; // '+': the next part of a composite
    }
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

  private static String rootMessage(Throwable error) {
    Throwable t = error;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  /** A client input problem; the message is the problem detail (it names the field). */
  static final class BadField extends Exception {
    BadField(String message) {
      super(message, null, false, false);
    }
  }
}
