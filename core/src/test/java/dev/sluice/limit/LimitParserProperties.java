package dev.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;

class LimitParserProperties {

  @Property(tries = 2000)
  void parse_anyString_givesLimitOrPositionedSyntaxError(@ForAll("texts") String text) {
    try {
      Limit limit = LimitParser.parse(text);
      assertThat(limit.quantity()).isPositive();
      assertThat(limit.periodNanos()).isPositive();
      assertThat(limit.burst()).isPositive();
    } catch (LimitSyntaxException e) {
      assertThat(e.column()).isBetween(0, text.length());
      assertThat(e.getMessage()).startsWith("invalid limit \"" + text + "\": ");
    }
  }

  /** Random junk plus near-misses built from grammar pieces, so both paths are exercised. */
  @Provide
  Arbitrary<String> texts() {
    Arbitrary<String> piece =
        Arbitraries.of(
            "10", "0", "-3", "1.5", "99999999999999999999", "/", " / ", " per ", "per", " ",
            "minute", "minutes", "m", "s", "h", "d", "days", "fortnight", " burst ", "burst",
            "7", "15 ", "x", "", "\t", "+2");
    Arbitrary<String> structured = piece.list().ofMaxSize(8).map(p -> String.join("", p));
    Arbitrary<String> junk = Arbitraries.strings().ofMaxLength(30);
    return Arbitraries.oneOf(structured, junk);
  }

  @Property(tries = 1000)
  void formatThenParse_roundTrips(
      @ForAll @LongRange(min = 1, max = 1_000_000_000_000L) long quantity,
      @ForAll("periods") long periodNanos,
      @ForAll @LongRange(min = 1, max = 1_000_000_000_000L) long burst) {
    Limit limit = new Limit(quantity, periodNanos, burst, null);
    if (limit.boundsProblem().isPresent()) {
      // Outside what the engine decides exactly: the text the formatter wrote is refused.
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> LimitParser.parse(LimitParser.format(limit)))
          .isInstanceOf(LimitSyntaxException.class);
      return;
    }

    Limit parsed = LimitParser.parse(LimitParser.format(limit));

    assertThat(parsed.quantity()).isEqualTo(quantity);
    assertThat(parsed.periodNanos()).isEqualTo(periodNanos);
    assertThat(parsed.burst()).isEqualTo(burst);
    assertThat(LimitParser.format(parsed)).isEqualTo(LimitParser.format(limit));
  }

  @Provide
  Arbitrary<Long> periods() {
    Arbitrary<Long> unit = Arbitraries.of(1L, 60L, 3600L, 86400L).map(s -> s * 1_000_000_000L);
    Arbitrary<Long> multiplier = Arbitraries.longs().between(1, 10_000);
    return Combinators.combine(unit, multiplier).as((u, m) -> u * m);
  }
}
