package dev.sluice.gateway.live;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * {@link SpaceSaving}'s guarantees on streams that repeat the same key objects, as a flood does:
 * the counts sum to the stream's length, every counter's own hits are exactly what its key
 * occurred since it was monitored ({@code count - error} ≤ true count ≤ {@code count}), and every
 * occurrence is counted under its own key.
 */
class SpaceSavingProperties {

  @Property(tries = 300)
  void repeatedKeyObjects_keepTheSpaceSavingBounds(
      @ForAll @Size(min = 1, max = 400) List<@IntRange(min = 0, max = 11) Integer> stream,
      @ForAll @IntRange(min = 1, max = 6) int capacity) {
    String[] keys = new String[12]; // "ip:0".."ip:9" and "ip:10", "ip:11": equal lengths on purpose
    for (int i = 0; i < keys.length; i++) {
      keys[i] = "ip:" + i;
    }
    SpaceSaving summary = new SpaceSaving(capacity);
    Map<String, Long> truth = new HashMap<>();
    long now = 1_000;
    for (int k : stream) {
      summary.add(keys[k], "ip", Integer.toString(k), k % Outcomes.COUNT, now++);
      truth.merge(keys[k], 1L, Long::sum);
    }
    long sum = 0;
    for (SpaceSaving.Counter c : summary.counters()) {
      long own = 0;
      for (long o : c.outcomes) {
        own += o;
      }
      long real = truth.getOrDefault(c.key, 0L);
      assertThat(own).as("hits counted under %s", c.key).isEqualTo(c.count - c.error);
      assertThat(real).as("true count of %s", c.key).isBetween(c.count - c.error, c.count);
      assertThat(c.value).isEqualTo(c.key.substring(3));
      sum += c.count;
    }
    assertThat(sum).isEqualTo(stream.size());
    assertThat(summary.total()).isEqualTo(stream.size());
    assertThat(summary.size()).isLessThanOrEqualTo(capacity);
    // The last key of the stream is always monitored, with at least its final run counted.
    assertThat(summary.get(keys[stream.get(stream.size() - 1)])).isNotNull();
  }
}
