package dev.sluice.gateway.admin;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * How admin API handlers read a JSON request body: strictly. A key given twice ({@code
 * {"policy": "a", "policy": "b"}}) is refused, not resolved by "last one wins", because two
 * readers of the same body (a proxy or a log in front, the API here) could each act on a
 * different one; trailing content after the value is refused too.
 *
 * <p>Thread-safe (one shared, immutable mapper).
 */
public final class AdminJson {
  /** The mapper every admin endpoint reads bodies with (and may write answers with). */
  public static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build())
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private AdminJson() {}

  /**
   * Parses a request body.
   *
   * @param example a valid body, quoted in the message when the body is not JSON
   * @throws BadJson with a problem detail: not JSON, a duplicate key (named), or trailing content
   */
  public static JsonNode read(ByteBuf content, String example) throws BadJson {
    try {
      return MAPPER.readTree(content.toString(StandardCharsets.UTF_8));
    } catch (JsonParseException e) {
      String message = String.valueOf(e.getOriginalMessage());
      if (message.startsWith("Duplicate field")) {
        String field = message.substring("Duplicate field".length()).strip();
        throw new BadJson("The request body has the key " + field.replace('\'', '"') + " more than once;"
            + " expected each key once.");
      }
      throw new BadJson("The request body is not valid JSON; expected " + example + ".");
    } catch (IOException e) {
      throw new BadJson("The request body is not valid JSON; expected " + example + ".");
    }
  }

  /** A body the handler cannot read; the message is the problem detail. */
  public static final class BadJson extends Exception {
    BadJson(String message) {
      super(message, null, false, false);
    }
  }
}
