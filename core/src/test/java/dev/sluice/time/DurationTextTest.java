package dev.sluice.time;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DurationTextTest {

  @ParameterizedTest
  @CsvSource({
    "PT15M, 15m",
    "PT900S, 15m",
    "PT0.05S, 50ms",
    "PT30S, 30s",
    "PT90S, 90s",
    "PT24H, 24h",
    "PT48H, 48h",
    "PT72H, 3d",
    "PT8760H, 365d",
    "PT1.5S, 1500ms",
    "PT0S, 0s",
    "PT0.000001S, 1000ns",
    "-PT15M, -15m",
  })
  void format_writesTheFileGrammar(String iso, String text) {
    assertThat(DurationText.format(Duration.parse(iso))).isEqualTo(text);
  }
}
