package dev.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class LimitParserTest {

  private static final String UNITS = "second, minute, hour or day (or s, m, h, d)";

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "100/minute           | 100 | 60        | 100",
        "5 per second         | 5   | 1         | 5",
        "10/15 minutes        | 10  | 900       | 10",
        "10/15minutes         | 10  | 900       | 10",
        "10 per 2 hours       | 10  | 7200      | 10",
        "10/s burst 50        | 10  | 1         | 50",
        "10 / 1 day burst 3   | 10  | 86400     | 3",
        "'  7/h  '            | 7   | 3600      | 7",
        "3 PER Minute BURST 9 | 3   | 60        | 9",
        "1/1 second           | 1   | 1         | 1",
      })
  void parse_everyForm_givesQuantityPeriodAndBurst(String text, long n, long seconds, long burst) {
    Limit limit = LimitParser.parse(text);

    assertThat(limit.quantity()).isEqualTo(n);
    assertThat(limit.period()).isEqualTo(Duration.ofSeconds(seconds));
    assertThat(limit.burst()).isEqualTo(burst);
    assertThat(limit.text()).isEqualTo(text.strip());
  }

  @ParameterizedTest
  @CsvSource({
    "second, 1", "seconds, 1", "s, 1",
    "minute, 60", "minutes, 60", "m, 60",
    "hour, 3600", "hours, 3600", "h, 3600",
    "day, 86400", "days, 86400", "d, 86400",
  })
  void parse_everyUnitSpelling_isAccepted(String unit, long seconds) {
    assertThat(LimitParser.parse("4/" + unit).period()).isEqualTo(Duration.ofSeconds(seconds));
    assertThat(LimitParser.parse("4 per " + unit).period()).isEqualTo(Duration.ofSeconds(seconds));
    assertThat(LimitParser.parse("4/3 " + unit).period()).isEqualTo(Duration.ofSeconds(3 * seconds));
  }

  @Test
  void limitParse_delegatesToTheParser() {
    assertThat(Limit.parse("10/15 minutes burst 20"))
        .isEqualTo(new Limit(10, Duration.ofMinutes(15).toNanos(), 20, "10/15 minutes burst 20"));
  }

  @Test
  void parse_largestPeriod_isAccepted() {
    assertThat(LimitParser.parse("1/104 days").period()).isEqualTo(Duration.ofDays(104));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        // text | column | message after 'invalid limit "<text>": '
        "10/fortnight | 3 | unknown unit \"fortnight\", expected " + UNITS,
        "10/min | 3 | unknown unit \"min\", expected " + UNITS,
        "0/minute | 0 | the quantity must be a positive integer, got 0",
        "-5/minute | 0 | the quantity must be a positive integer, got -5",
        "+5/minute | 0 | the quantity must be written without a sign, got +5",
        "1.5/minute | 0 | the quantity must be a whole number, got 1.5",
        "abc/minute | 0 | expected a positive integer for the quantity, got \"abc\"",
        "/minute | 0 | expected a positive integer for the quantity, got \"/\"",
        "99999999999999999999/minute | 0 | the quantity 99999999999999999999 is too large, at most 9223372036854775807",
        "9223372036854775808/s | 0 | the quantity 9223372036854775808 is too large, at most 9223372036854775807",
        "10 minute | 3 | expected \"/\" or \"per\" after the quantity, got \"minute\"",
        "10 | 2 | expected \"/\" or \"per\" after the quantity, got the end of the text",
        "10x/minute | 2 | expected \"/\" or \"per\" after the quantity, got \"x\"",
        "10/ | 3 | missing unit, expected " + UNITS + ", got the end of the text",
        "10/15 | 5 | missing unit, expected " + UNITS + ", got the end of the text",
        "10/! | 3 | missing unit, expected " + UNITS + ", got \"!\"",
        "10/0 minutes | 3 | the period multiplier must be a positive integer, got 0",
        "10/-2 minutes | 3 | the period multiplier must be a positive integer, got -2",
        "10/106752 days | 3 | the period \"106752 days\" is too long, at most 104 days",
        "10/105 days | 3 | the period \"105 days\" is too long, at most 104 days",
        "1/100000 days burst 1000000 | 2 | the period \"100000 days\" is too long, at most 104 days",
        "10/106751992 d | 3 | the period \"106751992 d\" is too long, at most 104 days",
        "9223372036854775807/second | 0 | the quantity 9223372036854775807 is too large for a period of second:"
            + " at most one token a microsecond, so at most 1000000",
        "2000001/2 seconds | 0 | the quantity 2000001 is too large for a period of 2 seconds:"
            + " at most one token a microsecond, so at most 2000000",
        "1/day burst 200 | 12 | the burst 200 is too large: a bucket of 200 tokens takes 200d to refill,"
            + " at most 2^53 ns (about 104 days); expected a burst of at most 104",
        "1/second burst 9223372036854775807 | 15 | the burst 9223372036854775807 is too large: a bucket of"
            + " 9223372036854775807 tokens takes more than 292 years to refill, at most 2^53 ns (about 104 days);"
            + " expected a burst of at most 9007199",
        "10/minute burst | 15 | expected a positive integer for the burst, got the end of the text",
        "10/minute burst 0 | 16 | the burst must be a positive integer, got 0",
        "10/minute burst -1 | 16 | the burst must be a positive integer, got -1",
        "10/minute burst x | 16 | expected a positive integer for the burst, got \"x\"",
        "10/minute 5 | 10 | unexpected \"5\" after the unit, expected \"burst B\" or the end of the text",
        "10/minute5 | 9 | unexpected \"5\" after the unit, expected \"burst B\" or the end of the text",
        "10/minute burst 5 now | 18 | unexpected \"now\" after the burst, expected the end of the text",
        "10/minute burst 5x | 17 | unexpected \"x\" after the burst, expected the end of the text",
      })
  void parse_badText_isRejectedWithPositionedMessage(String text, int column, String detail) {
    assertThatThrownBy(() -> LimitParser.parse(text))
        .isInstanceOfSatisfying(
            LimitSyntaxException.class, e -> assertThat(e.column()).isEqualTo(column))
        .hasMessage("invalid limit \"" + text + "\": " + detail);
  }

  @ParameterizedTest
  @ValueSource(strings = {"1000000/second", "2000000/2 seconds", "1/day burst 104", "1/104 days",
      "86400000000/day", "1/hour burst 2501"})
  void parse_limitsAtTheEngineBounds_areAccepted(String text) {
    Limit limit = LimitParser.parse(text);
    assertThat(limit.boundsProblem()).isEmpty();
    assertThat(dev.sluice.algorithm.Gcra.capacityNanos(limit)).isLessThanOrEqualTo(Limit.MAX_CAPACITY_NANOS);
  }

  @Test
  void parse_hugeText_isRejectedPromptlyWithoutRepeatingIt() {
    String text = "1".repeat(50_000_000) + "/second";
    long start = System.nanoTime();

    assertThatThrownBy(() -> LimitParser.parse(text))
        .isInstanceOfSatisfying(LimitSyntaxException.class, e -> assertThat(e.column()).isEqualTo(100))
        .hasMessage("invalid limit \"11111111111111111111...\" (50000007 characters): the limit is 50000007"
            + " characters long, at most 100; expected N/unit, N per unit or N/M units, optionally followed by"
            + " burst B (e.g. \"100/minute\", \"10/15 minutes burst 20\")");
    assertThat(System.nanoTime() - start).isLessThan(Duration.ofSeconds(1).toNanos());
  }

  @Test
  void limitOf_defaultText_isWrittenInTheFileGrammar() {
    assertThat(Limit.of(3, Duration.ofMinutes(1)).text()).isEqualTo("3/minute");
    assertThat(Limit.of(5, Duration.ofMillis(1500)).text()).isEqualTo("5/1500ms");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "   "})
  void parse_emptyText_isRejectedWithTheGrammar(String text) {
    assertThatThrownBy(() -> LimitParser.parse(text))
        .isInstanceOfSatisfying(
            LimitSyntaxException.class, e -> assertThat(e.column()).isEqualTo(text.length()))
        .hasMessage(
            "invalid limit \"" + text + "\": the limit is empty, expected N/unit, N per unit or"
                + " N/M units, optionally followed by burst B (e.g. \"100/minute\","
                + " \"10/15 minutes burst 20\")");
  }

  @Test
  void parse_null_isRejectedAsMissing() {
    assertThatThrownBy(() -> LimitParser.parse(null))
        .isInstanceOfSatisfying(LimitSyntaxException.class, e -> assertThat(e.column()).isZero())
        .hasMessageStartingWith("invalid limit: no value, expected N/unit");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "100/minute | 100/minute",
        "5 per 60 seconds | 5/minute",
        "10/15 minutes burst 20 | 10/15 minutes burst 20",
        "10/90 s | 10/90 seconds",
        "10/48h | 10/2 days",
        "3/d burst 3 | 3/day",
      })
  void format_givesCanonicalText(String text, String canonical) {
    assertThat(LimitParser.format(LimitParser.parse(text))).isEqualTo(canonical);
  }

  @Test
  void format_subSecondPeriod_isRejected() {
    Limit limit = Limit.of(5, Duration.ofMillis(1500));

    assertThatThrownBy(() -> LimitParser.format(limit))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "limit \"5/1500ms\" cannot be written in the limit grammar: its period of"
                + " 1500000000ns is not a whole number of seconds");
  }

  @Test
  void limit_nonPositiveFields_areRejected() {
    assertThatThrownBy(() -> new Limit(0, 1, 1, "x")).hasMessage("limit quantity must be positive, got 0");
    assertThatThrownBy(() -> new Limit(1, 0, 1, "x")).hasMessage("limit period must be positive, got 0ns");
    assertThatThrownBy(() -> new Limit(1, 1, -1, "x")).hasMessage("limit burst must be positive, got -1");
  }
}
