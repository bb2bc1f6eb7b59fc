package dev.sluice.request;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HttpTokenTest {

  @ParameterizedTest
  @ValueSource(strings = {"GET", "X-API-Key", "session", "a!#$%&'*+-.^_`|~9"})
  void isToken_rfc9110Tchars_isAccepted(String s) {
    assertThat(HttpToken.isToken(s)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "X API", "a:b", "a\"b", "(x)", "é", "a/b", "a,b", "a;b", "a=b"})
  void isToken_separatorsSpacesOrNonAscii_areRejected(String s) {
    assertThat(HttpToken.isToken(s)).isFalse();
  }

  @org.junit.jupiter.api.Test
  void isToken_null_isRejected() {
    assertThat(HttpToken.isToken(null)).isFalse();
  }
}
