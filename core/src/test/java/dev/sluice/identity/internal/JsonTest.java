package dev.sluice.identity.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonTest {

  @Test
  void parse_object_keepsOrderAndTypes() {
    Map<String, Object> map = Json.parseObject(
        " {\"s\":\"x\",\"n\":-12.5e2,\"t\":true,\"f\":false,\"z\":null,\"a\":[1,[],{}],\"o\":{\"k\":\"v\"}} ");
    assertThat(map.keySet()).containsExactly("s", "n", "t", "f", "z", "a", "o");
    assertThat(map.get("s")).isEqualTo("x");
    assertThat((BigDecimal) map.get("n")).isEqualByComparingTo("-1250");
    assertThat(map.get("t")).isEqualTo(Boolean.TRUE);
    assertThat(map.get("f")).isEqualTo(Boolean.FALSE);
    assertThat(map).containsKey("z");
    assertThat(map.get("z")).isNull();
    assertThat((List<?>) map.get("a")).hasSize(3);
    assertThat(map.get("o")).isEqualTo(Map.of("k", "v"));
  }

  static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> strings() {
    return java.util.stream.Stream.of(
        org.junit.jupiter.params.provider.Arguments.of("\"a\\\"b\"", "a\"b"),
        org.junit.jupiter.params.provider.Arguments.of("\"\\\\\\/\\b\\f\\n\\r\\t\"", "\\/\b\f\n\r\t"),
        org.junit.jupiter.params.provider.Arguments.of("\"\\u00e9\\u00E9\"", "\u00e9\u00e9"),
        org.junit.jupiter.params.provider.Arguments.of("\"\\ud83d\\ude00\"", "\uD83D\uDE00"),
        org.junit.jupiter.params.provider.Arguments.of("\"\uD83D\uDE00\"", "\uD83D\uDE00"),
        org.junit.jupiter.params.provider.Arguments.of("\"caf\u00e9 \u007f\"", "caf\u00e9 \u007f"));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @org.junit.jupiter.params.provider.MethodSource("strings")
  void parse_strings_unescape(String json, String expected) {
    assertThat(Json.parse(json)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"0", "-0", "1", "-1", "1.5", "1e10", "1E-10", "1e+2", "123456789012345678901234567890"})
  void parse_numbers_areBigDecimal(String json) {
    assertThat((BigDecimal) Json.parse(json)).isEqualByComparingTo(new BigDecimal(json));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      "", " ", "{", "}", "[", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\"}", "{\"a\" 1}", "{a:1}", "{'a':1}",
      "{\"a\":1}x", "1 2", "01", "-", "1.", ".5", "1e", "1e+", "+1", "NaN", "Infinity", "tru", "nul", "True",
      "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\uZZZZ\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
      "\"\uD800\"", "\"a\nb\"", "\"\t\"", "{\"a\":1,\"a\":2}", "\u00a0{}", "[1]\u0000", "1e99999999999"})
  void parse_invalid_throwsJsonException(String json) {
    assertThatThrownBy(() -> Json.parse(json)).isInstanceOf(JsonException.class);
  }

  @Test
  void parse_deepNesting_isBoundedNotStackOverflow() {
    String deep = "[".repeat(100_000) + "]".repeat(100_000);
    assertThatThrownBy(() -> Json.parse(deep)).isInstanceOf(JsonException.class).hasMessageContaining("nesting deeper than 64");
    String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
    assertThat(Json.parse(ok)).isInstanceOf(List.class);
  }

  @Test
  void parse_error_hasOffset() {
    assertThatThrownBy(() -> Json.parse("{\"a\":1,\"a\":2}"))
        .isInstanceOfSatisfying(JsonException.class, e -> assertThat(e.offset()).isEqualTo(7))
        .hasMessage("duplicate key \"a\" at offset 7");
    assertThatThrownBy(() -> Json.parse(null)).isInstanceOf(JsonException.class);
    assertThatThrownBy(() -> Json.parseObject("[1]")).hasMessage("expected a JSON object at offset 0");
  }

  @Test
  void parse_result_isUnmodifiable() {
    Map<String, Object> map = Json.parseObject("{\"a\":[1]}");
    assertThatThrownBy(() -> map.put("b", 1)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> ((List<?>) map.get("a")).clear()).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void parse_arrayWithNulls_keepsThem() {
    assertThat(Json.parse("[null, 1, null]")).isEqualTo(Arrays.asList(null, BigDecimal.ONE, null));
    Map<String, Object> expected = new LinkedHashMap<>();
    expected.put("x", null);
    assertThat(Json.parse("{\"x\":null}")).isEqualTo(expected);
  }
}
