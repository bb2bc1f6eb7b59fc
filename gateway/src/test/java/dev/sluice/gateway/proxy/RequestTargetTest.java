package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
}
