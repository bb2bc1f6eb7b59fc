package dev.sluice.identity.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class JsonProperties {

  @Property(tries = 2000)
  void parse_arbitraryString_givesValueOrJsonException(@ForAll String text) {
    try {
      Json.parse(text);
    } catch (JsonException expected) {
      // the only exception allowed
    }
  }

  /** Near-JSON: fragments of JSON syntax glued at random, so the parser sees deep, odd input. */
  @Provide
  Arbitrary<String> nearJson() {
    return Arbitraries.of("{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "d83d", "\\ud800", "a", "1", "-", ".",
            "e", "+", "0", "true", "null", "fals", " ", "\n", "\u0001", "\uD83D", "\uDE00", "\"k\":", "1e999999999999")
        .list().ofMaxSize(40).map(parts -> String.join("", parts));
  }

  @Property(tries = 5000)
  void parse_nearJson_givesValueOrJsonException(@ForAll("nearJson") String text) {
    try {
      Json.parse(text);
    } catch (JsonException expected) {
      assertThat(expected.offset()).isBetween(0, text.length());
    }
  }

  @Provide
  Arbitrary<Object> values() {
    return Arbitraries.lazyOf(
        () -> Arbitraries.strings().ofMaxLength(8).map(s -> (Object) s),
        () -> Arbitraries.bigDecimals().ofScale(3).map(d -> (Object) d),
        () -> Arbitraries.of(Boolean.TRUE, Boolean.FALSE),
        () -> values().list().ofMaxSize(3).map(l -> (Object) l),
        () -> Arbitraries.maps(Arbitraries.strings().ofMaxLength(4), values()).ofMaxSize(3).map(m -> (Object) m));
  }

  @Property(tries = 1000)
  void parse_serialisedValue_roundTrips(@ForAll("values") Object value) {
    assertThat(normalise(Json.parse(write(value)))).isEqualTo(normalise(value));
  }

  private static String write(Object value) {
    if (value instanceof String s) {
      StringBuilder out = new StringBuilder("\"");
      for (char c : s.toCharArray()) {
        out.append(String.format("\\u%04x", (int) c));
      }
      return out.append('"').toString();
    }
    if (value instanceof List<?> list) {
      List<String> parts = new ArrayList<>();
      list.forEach(v -> parts.add(write(v)));
      return "[" + String.join(",", parts) + "]";
    }
    if (value instanceof Map<?, ?> map) {
      List<String> parts = new ArrayList<>();
      map.forEach((k, v) -> parts.add(write(k) + " : " + write(v)));
      return "{ " + String.join(", ", parts) + " }";
    }
    if (value instanceof BigDecimal d) {
      return d.toString();
    }
    return String.valueOf(value);
  }

  /** Numbers compared by value, not scale. */
  private static Object normalise(Object value) {
    if (value instanceof BigDecimal d) {
      return d.signum() == 0 ? BigDecimal.ZERO : d.stripTrailingZeros();
    }
    if (value instanceof List<?> list) {
      List<Object> out = new ArrayList<>();
      list.forEach(v -> out.add(normalise(v)));
      return out;
    }
    if (value instanceof Map<?, ?> map) {
      Map<Object, Object> out = new LinkedHashMap<>();
      map.forEach((k, v) -> out.put(k, normalise(v)));
      return out;
    }
    return value;
  }
}
