package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sluice process turns Netty's leak detector and its Flight Recorder events off unless the
 * user chose otherwise.
 */
class NettyProductionDefaultsTest {
  private String saved;
  private String savedLegacy;
  private String savedJfr;

  @BeforeEach
  void save() {
    saved = System.getProperty(Main.LEAK_DETECTION);
    savedLegacy = System.getProperty("io.netty.leakDetectionLevel");
    System.clearProperty(Main.LEAK_DETECTION);
    System.clearProperty("io.netty.leakDetectionLevel");
    savedJfr = System.getProperty(Main.NETTY_JFR);
    System.clearProperty(Main.NETTY_JFR);
  }

  @AfterEach
  void restore() {
    restore(Main.LEAK_DETECTION, saved);
    restore("io.netty.leakDetectionLevel", savedLegacy);
    restore(Main.NETTY_JFR, savedJfr);
  }

  private static void restore(String key, String value) {
    if (value == null) {
      System.clearProperty(key);
    } else {
      System.setProperty(key, value);
    }
  }

  @Test
  void nothingSet_leakDetectionIsOff() {
    Main.nettyProductionDefaults();

    assertThat(System.getProperty(Main.LEAK_DETECTION)).isEqualTo("disabled");
  }

  @Test
  void aLevelTheUserChose_isKept() {
    System.setProperty(Main.LEAK_DETECTION, "paranoid");

    Main.nettyProductionDefaults();

    assertThat(System.getProperty(Main.LEAK_DETECTION)).isEqualTo("paranoid");
  }

  @Test
  void nettysOlderPropertyName_countsAsAChoice() {
    System.setProperty("io.netty.leakDetectionLevel", "advanced");

    Main.nettyProductionDefaults();

    assertThat(System.getProperty(Main.LEAK_DETECTION)).isNull();
  }

  @Test
  void nothingSet_nettysFlightRecorderEventsAreOff() {
    Main.nettyProductionDefaults();

    assertThat(System.getProperty(Main.NETTY_JFR)).isEqualTo("false");
  }

  @Test
  void flightRecorderEventsTheUserAskedFor_areKept() {
    System.setProperty(Main.NETTY_JFR, "true");

    Main.nettyProductionDefaults();

    assertThat(System.getProperty(Main.NETTY_JFR)).isEqualTo("true");
  }
}
