package dev.sluice.verify.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RateLimitFieldsTest {
  @Test
  void items_parsesStructuredFieldList() {
    Map<String, Map<String, String>> items =
        RateLimitFields.items("\"login/1\";q=5;w=60, \"login/2\";q=20;w=3600;sluice-burst=30");
    assertThat(items).containsOnlyKeys("login/1", "login/2");
    assertThat(items.get("login/2")).containsEntry("q", "20").containsEntry("w", "3600").containsEntry("sluice-burst", "30");
  }

  @Test
  void items_quotedParameterWithComma_staysInItsItem() {
    Map<String, Map<String, String>> items = RateLimitFields.items("\"p/concurrency\";q=2;qu=\"a,b\", \"x\";r=0");
    assertThat(items).containsOnlyKeys("p/concurrency", "x");
  }
}
