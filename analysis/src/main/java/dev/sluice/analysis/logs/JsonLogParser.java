package dev.sluice.analysis.logs;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import dev.sluice.match.EncodedSlashes;
import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * JSON lines of another server, with configurable top-level field names ({@code --field
 * time=ts --field path=uri …}). Logical fields and their default names:
 *
 * <ul>
 *   <li>{@code time} (required): RFC 3339 text, or an epoch number in seconds, milliseconds,
 *       microseconds or nanoseconds (told apart by size);
 *   <li>{@code method} (default {@code GET} when unmapped and absent);
 *   <li>{@code path} (required): the request target; a query string is split off and kept;
 *   <li>{@code client_ip} (required);
 *   <li>{@code status} (optional, number or numeric text);
 *   <li>{@code api_key} (optional, no default name): the raw API key, given to the engine as the
 *       configured API key header, so it is hashed and checked as live;
 *   <li>{@code user} (optional, no default name): the authenticated user, the {@code user} identity.
 * </ul>
 *
 * Other keys are skipped. Nested objects are not searched: map a top-level key.
 */
public final class JsonLogParser implements LineParser {
  /** The logical fields {@code --field} may name. */
  public static final List<String> FIELDS = List.of("time", "method", "path", "client_ip", "status", "api_key", "user");

  private final JsonFactory json = new JsonFactory();
  private final Timestamps times = new Timestamps();
  private final EncodedSlashes slashes;
  /** JSON key → logical field. */
  private final Map<String, String> byKey = new HashMap<>();
  private final Map<String, String> names;

  /**
   * @param mapping logical field → JSON key; unmapped fields use their own name (except {@code
   *     api_key} and {@code user}, read only when mapped)
   * @throws IllegalArgumentException for a logical field that does not exist
   */
  public JsonLogParser(Map<String, String> mapping, EncodedSlashes slashes) {
    this.slashes = slashes;
    Map<String, String> all = new LinkedHashMap<>();
    for (String f : List.of("time", "method", "path", "client_ip", "status")) {
      all.put(f, f);
    }
    for (Map.Entry<String, String> e : mapping.entrySet()) {
      if (!FIELDS.contains(e.getKey())) {
        throw new IllegalArgumentException("--field " + e.getKey() + "=" + e.getValue() + ": unknown field \""
            + e.getKey() + "\"; expected one of " + String.join(", ", FIELDS));
      }
      all.put(e.getKey(), e.getValue());
    }
    all.forEach((logical, key) -> byKey.put(key, logical));
    this.names = Map.copyOf(all);
  }

  @Override
  public LogLine parse(long lineNumber, String text) throws MalformedLineException {
    if (text.isBlank()) {
      return null;
    }
    long nanos = -1;
    String method = null;
    String target = null;
    String clientIp = null;
    int status = 0;
    String apiKey = null;
    String user = null;
    try (JsonParser p = json.createParser(text)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new MalformedLineException("not a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String logical = byKey.get(p.currentName());
        JsonToken value = p.nextToken();
        if (logical == null) {
          p.skipChildren();
          continue;
        }
        switch (logical) {
          case "time" -> nanos = time(p, value);
          case "method" -> method = text(p, value, logical);
          case "path" -> target = text(p, value, logical);
          case "client_ip" -> clientIp = text(p, value, logical);
          case "status" -> status = status(p, value);
          case "api_key" -> apiKey = value == JsonToken.VALUE_NULL ? null : text(p, value, logical);
          case "user" -> user = value == JsonToken.VALUE_NULL ? null : text(p, value, logical);
          default -> p.skipChildren();
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT) {
        throw new MalformedLineException("not a JSON object");
      }
    } catch (JsonProcessingException e) {
      throw new MalformedLineException("not JSON (" + e.getOriginalMessage() + ")");
    } catch (IOException e) {
      throw new MalformedLineException("not JSON (" + e.getMessage() + ")");
    }
    if (nanos < 0) {
      throw missing("time");
    }
    if (target == null) {
      throw missing("path");
    }
    if (clientIp == null) {
      throw missing("client_ip");
    }
    Map<String, String> identities = user == null || user.isEmpty() ? Map.of() : Map.of("user", user);
    return new LogLine(lineNumber, nanos, method == null ? "GET" : method.toUpperCase(Locale.ROOT),
        Targets.path(target, slashes), Targets.query(target), clientIp, apiKey, identities, status, -1, null);
  }

  private MalformedLineException missing(String logical) {
    return new MalformedLineException("\"" + names.get(logical) + "\" (" + logical + ") is missing"
        + (names.get(logical).equals(logical) ? "; name the key with --field " + logical + "=KEY" : ""));
  }

  private long time(JsonParser p, JsonToken value) throws IOException, MalformedLineException {
    if (value == JsonToken.VALUE_STRING) {
      return times.rfc3339(p.getText());
    }
    if (value == JsonToken.VALUE_NUMBER_INT || value == JsonToken.VALUE_NUMBER_FLOAT) {
      return Timestamps.epochNumber(p.getDecimalValue(), p.getText());
    }
    throw new MalformedLineException("\"" + names.get("time") + "\" is not a timestamp");
  }

  private int status(JsonParser p, JsonToken value) throws IOException, MalformedLineException {
    if (value == JsonToken.VALUE_NUMBER_INT) {
      return p.getIntValue();
    }
    if (value == JsonToken.VALUE_STRING && p.getText().matches("[0-9]{3}")) {
      return Integer.parseInt(p.getText());
    }
    if (value == JsonToken.VALUE_NULL) {
      return 0;
    }
    throw new MalformedLineException("\"" + names.get("status") + "\" is not a status code");
  }

  private String text(JsonParser p, JsonToken value, String logical) throws IOException, MalformedLineException {
    if (value == JsonToken.VALUE_STRING) {
      return p.getText();
    }
    throw new MalformedLineException("\"" + names.get(logical) + "\" (" + logical + ") is not a string");
  }
}
