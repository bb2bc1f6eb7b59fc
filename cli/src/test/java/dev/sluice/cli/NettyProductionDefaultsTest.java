package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The sluice process turns Netty's leak detector off unless the user chose a level. */
class NettyProductionDefaultsTest {
  private String saved;
  private String savedLegacy;

  @BeforeEach
  void save() {
    saved = System.getProperty(Main.LEAK_DETECTION);
    savedLegacy = System.getProperty("io.netty.leakDetectionLevel");
    System.clearProperty(Main.LEAK_DETECTION);
    System.clearProperty("io.netty.leakDetectionLevel");
  }

  @AfterEach
  void restore() {
    restore(Main.LEAK_DETECTION, saved);
    restore("io.netty.leakDetectionLevel", savedLegacy);
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
}
