package dev.sluice.analysis.logs;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Sluice's own {@code access_log} line (SPEC §10; the exact shape is in the gateway's {@code
 * AccessLog}): {@code time}, {@code method}, {@code path}, {@code client_ip} and {@code identities}
 * are required; {@code status}, {@code upstream_ms} and {@code outcome} are read when present; any
 * other key is skipped, in any order, so newer writers stay readable.
 */
public final class SluiceLogParser implements LineParser {
  private final JsonFactory json = new JsonFactory();
  private final Timestamps times = new Timestamps();

  @Override
  public LogLine parse(long lineNumber, String text) throws MalformedLineException {
    if (text.isBlank()) {
      return null;
    }
    String time = null;
    String method = null;
    String path = null;
    String clientIp = null;
    Map<String, String> identities = null;
    int status = 0;
    long upstreamNanos = -1;
    String outcome = null;
    try (JsonParser p = json.createParser(text)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new MalformedLineException("not a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        switch (name) {
          case "time" -> time = string(p, value, name);
          case "method" -> method = string(p, value, name);
          case "path" -> path = string(p, value, name);
          case "client_ip" -> clientIp = string(p, value, name);
          case "outcome" -> outcome = value == JsonToken.VALUE_NULL ? null : string(p, value, name);
          case "status" -> {
            if (value != JsonToken.VALUE_NUMBER_INT) {
              throw new MalformedLineException("\"status\" is not an integer");
            }
            status = p.getIntValue();
          }
          case "upstream_ms" -> {
            if (value == JsonToken.VALUE_NUMBER_INT || value == JsonToken.VALUE_NUMBER_FLOAT) {
              upstreamNanos = Math.round(p.getDoubleValue() * 1e6);
            } else if (value != JsonToken.VALUE_NULL) {
              throw new MalformedLineException("\"upstream_ms\" is not a number or null");
            }
          }
          case "identities" -> identities = identities(p, value);
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
    String missing = time == null ? "time" : method == null ? "method" : path == null ? "path"
        : clientIp == null ? "client_ip" : identities == null ? "identities" : null;
    if (missing != null) {
      throw new MalformedLineException("\"" + missing + "\" is missing; a Sluice access log line has time, method,"
          + " path, client_ip and identities");
    }
    if (path.isEmpty() || path.charAt(0) != '/') {
      throw new MalformedLineException("\"path\" " + quote(path) + " does not start with /");
    }
    return new LogLine(lineNumber, times.rfc3339(time), method, path, null, clientIp, null, identities, status,
        upstreamNanos, outcome);
  }

  private static Map<String, String> identities(JsonParser p, JsonToken value) throws IOException, MalformedLineException {
    if (value != JsonToken.START_OBJECT) {
      throw new MalformedLineException("\"identities\" is not an object");
    }
    Map<String, String> map = new LinkedHashMap<>(4);
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String kind = p.currentName();
      JsonToken v = p.nextToken();
      if (v != JsonToken.VALUE_STRING) {
        throw new MalformedLineException("identity \"" + kind + "\" is not a string");
      }
      map.put(kind, p.getText());
    }
    return map;
  }

  private static String string(JsonParser p, JsonToken value, String name) throws IOException, MalformedLineException {
    if (value != JsonToken.VALUE_STRING) {
      throw new MalformedLineException("\"" + name + "\" is not a string");
    }
    return p.getText();
  }

  static String quote(String s) {
    return "\"" + (s.length() > 60 ? s.substring(0, 60) + "…" : s) + "\"";
  }
}
