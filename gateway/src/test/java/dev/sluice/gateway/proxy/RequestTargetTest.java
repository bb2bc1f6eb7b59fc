package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.match.EncodedSlashes;
import dev.sluice.match.MalformedTargetException;
import org.junit.jupiter.api.Test;

class RequestTargetTest {

  @Test
  void parse_originForm_keepsTargetAndSplitsQuery() {
    RequestTarget target = RequestTarget.parse("/api//search/./x?q=a%20b&n=1");

    assertThat(target.originForm()).isEqualTo("/api//search/./x?q=a%20b&n=1");
    assertThat(target.path()).isEqualTo("/api/search/x");
    assertThat(target.rawQuery()).isEqualTo("q=a%20b&n=1");
  }

  @Test
  void parse_withoutQuery_hasNullQuery() {
    assertThat(RequestTarget.parse("/a").rawQuery()).isNull();
  }

  @Test
  void parse_absoluteForm_becomesOriginForm() {
    RequestTarget target = RequestTarget.parse("http://example.test:8080/api/search?q=1");

    assertThat(target.originForm()).isEqualTo("/api/search?q=1");
    assertThat(target.path()).isEqualTo("/api/search");
  }

  @Test
  void parse_absoluteFormWithoutPath_isRoot() {
    assertThat(RequestTarget.parse("http://example.test?x=1").originForm()).isEqualTo("/?x=1");
  }

  @Test
  void parse_asteriskForm_isRejectedWithTheTarget() {
    assertThatThrownBy(() -> RequestTarget.parse("*"))
        .isInstanceOf(MalformedTargetException.class)
        .hasMessage("request target '*' is not supported; expected a path such as /api/items");
  }

  @Test
  void parse_dotDotAboveRoot_isRejected() {
    assertThatThrownBy(() -> RequestTarget.parse("/../etc/passwd")).isInstanceOf(MalformedTargetException.class);
  }

  @Test
  void parse_encodedSlash_isMatchedAsTheUpstreamRoutesItAndForwardedAsSent() {
    RequestTarget decode = RequestTarget.parse("/auth%2Flogin?x=1", EncodedSlashes.DECODE);
    RequestTarget keep = RequestTarget.parse("/auth%2Flogin?x=1", EncodedSlashes.KEEP);

    assertThat(decode.path()).isEqualTo("/auth/login");
    assertThat(keep.path()).isEqualTo("/auth%2Flogin");
    assertThat(decode.originForm()).isEqualTo("/auth%2Flogin?x=1").isEqualTo(keep.originForm());
    assertThatThrownBy(() -> RequestTarget.parse("/auth%2flogin", EncodedSlashes.REJECT))
        .isInstanceOf(MalformedTargetException.class)
        .hasMessageContaining("the encoded slash \"%2f\" is refused (gateway.encoded_slashes: reject)");
  }

  @Test
  void parse_rawByteOutsidePrintableAscii_isRejectedNamingIt() {
    assertThatThrownBy(() -> RequestTarget.parse("/a?q=\u00e9"))
        .isInstanceOf(MalformedTargetException.class)
        .hasMessage("the request target contains the raw byte 0xE9 at offset 5; expected printable ASCII,"
            + " with other bytes percent-encoded (as %E9)");
    assertThatThrownBy(() -> RequestTarget.parse("/a\u007f")).isInstanceOf(MalformedTargetException.class);
  }
}
