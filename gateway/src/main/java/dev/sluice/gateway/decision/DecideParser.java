package dev.sluice.gateway.decision;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import dev.sluice.gateway.proxy.RequestTarget;
import dev.sluice.match.EncodedSlashes;
import dev.sluice.request.HttpToken;
import dev.sluice.request.RequestView;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * Parses the JSON bodies of the decision API with Jackson's streaming parser: no tree, no data
 * binding, one pass, so a decision allocates little more than the strings it keeps.
 *
 * <p>Strict, like the rest of Sluice: unknown fields, duplicate keys, wrong types and values the
 * gateway itself would refuse are errors naming the field ({@link BadInput}), never a guess. A
 * {@code null} value of an optional field is the same as leaving it out.
 *
 * <p>Stateless and thread-safe.
 */
final class DecideParser {
  /** Longest {@code path} (the gateway's request-line limit). */
  static final int MAX_PATH = 8192;
  /** Most entries of {@code headers} and of {@code identities}. */
  static final int MAX_HEADERS = 100;

  private static final JsonFactory JSON = JsonFactory.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build();
  private static final Pattern IPV4 =
      Pattern.compile("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");

  private DecideParser() {}

  /**
   * Parses a {@code /v1/decide} body.
   *
   * @param json the body (offset 0)
   * @param length its length in bytes
   * @param encodedSlashes {@code gateway.encoded_slashes}: how {@code %2F} in {@code path} is read
   * @param connectionPeer the decision API client's address, used when the body gives no {@code peer}
   */
  static DecideRequest decide(byte[] json, int length, EncodedSlashes encodedSlashes, InetAddress connectionPeer)
      throws BadInput {
    String method = null;
    String pathText = null;
    InetAddress peer = null;
    String[] names = null;
    String[] values = null;
    int headers = 0;
    String user = null;
    String session = null;
    String apiKey = null;
    String[] assertedNames = null;
    String[] assertedValues = null;
    int asserted = 0;
    byte[] body = null;
    int bodyLength = 0;
    String field = "request";
    try (JsonParser p = JSON.createParser(json, 0, length)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new BadInput("request", "expected a JSON object such as {\"method\": \"GET\", \"path\": \"/\"}");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        field = p.currentName();
        JsonToken t = p.nextToken();
        switch (field) {
          case "method" -> {
            method = string(p, t, field, true);
            if (!HttpToken.isToken(method) || method.length() > 32) {
              throw new BadInput(field, "\"" + abbreviate(method) + "\" is not an HTTP method; expected e.g. \"GET\"");
            }
          }
          case "path" -> pathText = string(p, t, field, true);
          case "peer" -> {
            String text = string(p, t, field, false);
            peer = text == null ? null : ipLiteral(text);
          }
          case "headers" -> {
            if (t == JsonToken.VALUE_NULL) {
              break;
            }
            expectObject(t, field, "an object of header names and values, e.g. {\"X-Forwarded-For\": \"203.0.113.9\"}");
            names = new String[8];
            values = new String[8];
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String name = p.currentName();
              field = "headers." + name;
              if (!HttpToken.isToken(name)) {
                throw new BadInput(field, "not a valid header name");
              }
              JsonToken v = p.nextToken();
              if (v == JsonToken.START_ARRAY) {
                while ((v = p.nextToken()) != JsonToken.END_ARRAY) {
                  String value = headerValue(p, v, field);
                  if (headers == names.length) {
                    names = Arrays.copyOf(names, headers * 2);
                    values = Arrays.copyOf(values, headers * 2);
                  }
                  names[headers] = name;
                  values[headers++] = value;
                }
              } else if (v != JsonToken.VALUE_NULL) {
                String value = headerValue(p, v, field);
                if (headers == names.length) {
                  names = Arrays.copyOf(names, headers * 2);
                  values = Arrays.copyOf(values, headers * 2);
                }
                names[headers] = name;
                values[headers++] = value;
              }
              if (headers > MAX_HEADERS) {
                throw new BadInput("headers", "more than " + MAX_HEADERS + " header values");
              }
            }
            field = "headers";
          }
          case "identities" -> {
            if (t == JsonToken.VALUE_NULL) {
              break;
            }
            expectObject(t, field, "an object such as {\"user\": \"42\"}");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String kind = p.currentName();
              field = "identities." + kind;
              String value = identityValue(p, p.nextToken(), field);
              switch (kind) {
                case "user" -> user = value;
                case "session" -> session = value;
                case "api_key" -> apiKey = value;
                default -> {
                  if (!kind.startsWith("header:")) {
                    throw new BadInput(field, unknownKind(kind));
                  }
                  String name = kind.substring("header:".length());
                  if (!HttpToken.isToken(name)) {
                    throw new BadInput(field, "\"" + abbreviate(name) + "\" is not a valid header name;"
                        + " expected header:<Name> such as header:X-Tenant");
                  }
                  if (value == null) {
                    break;
                  }
                  if (assertedNames == null) {
                    assertedNames = new String[4];
                    assertedValues = new String[4];
                  } else if (asserted == assertedNames.length) {
                    if (asserted >= MAX_HEADERS) {
                      throw new BadInput("identities", "more than " + MAX_HEADERS + " header identities");
                    }
                    assertedNames = Arrays.copyOf(assertedNames, asserted * 2);
                    assertedValues = Arrays.copyOf(assertedValues, asserted * 2);
                  }
                  assertedNames[asserted] = name;
                  assertedValues[asserted++] = value;
                }
              }
            }
            field = "identities";
          }
          case "body" -> {
            if (t == JsonToken.VALUE_NULL) {
              break;
            }
            expectObject(t, field, "an object of the request's form or JSON fields, e.g. {\"username\": \"bob\"}");
            int start = (int) p.currentTokenLocation().getByteOffset();
            p.skipChildren();
            int end = (int) p.currentLocation().getByteOffset();
            bodyLength = end - start;
            // Like a gateway body prefix: at most BODY_PREFIX_LIMIT bytes; a longer one gives no identity.
            body = Arrays.copyOfRange(json, start, start + Math.min(bodyLength, RequestView.BODY_PREFIX_LIMIT));
          }
          default -> throw new BadInput(field, "unknown field; expected method, path, peer, headers, identities"
              + " or body");
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw new BadInput("request", "unexpected content after the JSON object");
      }
    } catch (JsonParseException e) {
      throw new BadInput(field, "malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new BadInput(field, "unreadable JSON: " + e.getMessage());
    }
    if (method == null) {
      throw new BadInput("method", "is required; e.g. \"method\": \"GET\"");
    }
    if (pathText == null) {
      throw new BadInput("path", "is required; e.g. \"path\": \"/api/items\"");
    }
    if (pathText.length() > MAX_PATH) {
      throw new BadInput("path", "longer than " + MAX_PATH + " characters");
    }
    if (!pathText.startsWith("/")) {
      throw new BadInput("path", "\"" + abbreviate(pathText) + "\" does not start with /; expected the request's"
          + " path as the client sent it, e.g. \"/api/items?page=2\"");
    }
    RequestTarget target;
    try {
      // The gateway's own parser and normaliser: the same path, the same policies.
      target = RequestTarget.parse(pathText, encodedSlashes);
    } catch (IllegalArgumentException e) {
      throw new BadInput("path", e.getMessage());
    }
    return new DecideRequest(method, target.path(), target.rawQuery(), peer != null ? peer : connectionPeer,
        names, values, headers, user, session, apiKey, assertedNames, assertedValues, asserted, body, bodyLength);
  }

  /** A parsed {@code /v1/settle} body. */
  record Settle(String ticket, int status) {}

  /** Parses a {@code /v1/settle} body: {@code {"ticket": "…", "status": 401}}. */
  static Settle settle(byte[] json, int length) throws BadInput {
    String ticket = null;
    int status = -1;
    String field = "request";
    try (JsonParser p = JSON.createParser(json, 0, length)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new BadInput("request", "expected a JSON object such as {\"ticket\": \"…\", \"status\": 200}");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        field = p.currentName();
        JsonToken t = p.nextToken();
        switch (field) {
          case "ticket" -> ticket = string(p, t, field, true);
          case "status" -> {
            if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT
                || p.getIntValue() < 100 || p.getIntValue() > 599) {
              throw new BadInput(field, "expected the application's response status, an integer 100..599, got "
                  + describe(p, t));
            }
            status = p.getIntValue();
          }
          default -> throw new BadInput(field, "unknown field; expected ticket and status");
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw new BadInput("request", "unexpected content after the JSON object");
      }
    } catch (JsonParseException e) {
      throw new BadInput(field, "malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new BadInput(field, "unreadable JSON: " + e.getMessage());
    }
    if (ticket == null) {
      throw new BadInput("ticket", "is required; the ticket of the /v1/decide answer");
    }
    if (status < 0) {
      throw new BadInput("status", "is required; the application's response status, e.g. 200");
    }
    return new Settle(ticket, status);
  }

  private static String string(JsonParser p, JsonToken t, String field, boolean required) throws IOException, BadInput {
    if (t == JsonToken.VALUE_STRING) {
      return p.getText();
    }
    if (t == JsonToken.VALUE_NULL && !required) {
      return null;
    }
    throw new BadInput(field, "expected a string, got " + describe(p, t));
  }

  private static String headerValue(JsonParser p, JsonToken t, String field) throws IOException, BadInput {
    if (t != JsonToken.VALUE_STRING) {
      throw new BadInput(field, "expected a string (or a list of strings), got " + describe(p, t));
    }
    String value = p.getText();
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if ((c < 0x20 && c != '\t') || c == 0x7F) {
        throw new BadInput(field, "contains a control character; a header value cannot");
      }
    }
    return value;
  }

  /** A string or an integer (user ids are often numbers); null or "" = not asserted. */
  private static String identityValue(JsonParser p, JsonToken t, String field) throws IOException, BadInput {
    String value;
    if (t == JsonToken.VALUE_STRING) {
      value = p.getText();
    } else if (t == JsonToken.VALUE_NUMBER_INT) {
      value = p.getText();
    } else if (t == JsonToken.VALUE_NULL) {
      return null;
    } else {
      throw new BadInput(field, "expected a string or an integer (null: none), got " + describe(p, t));
    }
    if (value.length() > 1024) {
      throw new BadInput(field, "longer than 1024 characters");
    }
    return value.isEmpty() ? null : value;
  }

  private static String unknownKind(String kind) {
    String hint = switch (kind) {
      case "ip" -> "; the client address comes from peer and headers (the trusted-proxy walk)";
      case "global" -> "; global needs no value";
      default -> kind.startsWith("body:") ? "; body fields come from \"body\"" : "";
    };
    return "unknown identity kind \"" + abbreviate(kind) + "\"; expected user, session, api_key or header:<Name>"
        + hint;
  }

  private static void expectObject(JsonToken t, String field, String expected) throws BadInput {
    if (t != JsonToken.START_OBJECT) {
      throw new BadInput(field, "expected " + expected + ", got " + kind(t));
    }
  }

  private static InetAddress ipLiteral(String text) throws BadInput {
    String s = text.strip();
    boolean v4 = IPV4.matcher(s).matches();
    boolean v6 = !v4 && s.indexOf(':') >= 0 && s.length() <= 45 && s.chars().allMatch(
        c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.');
    if (v4 || v6) {
      try {
        return InetAddress.getByName(s); // a literal: no name lookup
      } catch (UnknownHostException e) {
        // fall through
      }
    }
    throw new BadInput("peer", "\"" + abbreviate(text) + "\" is not an IP address; expected the address the"
        + " application's server saw (WSGI REMOTE_ADDR), e.g. \"10.1.2.3\"");
  }

  private static String describe(JsonParser p, JsonToken t) throws IOException {
    return switch (t) {
      case VALUE_STRING -> "the string \"" + abbreviate(p.getText()) + "\"";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "the number " + abbreviate(p.getText());
      default -> kind(t);
    };
  }

  private static String kind(JsonToken t) {
    return switch (t) {
      case START_OBJECT -> "an object";
      case START_ARRAY -> "a list";
      case VALUE_STRING -> "a string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      case VALUE_NULL -> "null";
      default -> String.valueOf(t);
    };
  }

  private static String abbreviate(String text) {
    return text.length() <= 64 ? text : text.substring(0, 64) + "…";
  }
}
