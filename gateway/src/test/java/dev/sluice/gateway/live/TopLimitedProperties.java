package dev.sluice.gateway.live;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/**
 * The heavy-hitters guarantees docs/algorithms.md states: memory bounded whatever the number of
 * distinct identities, and the true top-10 of a skewed stream reported with every count within
 * {@code N / K} of the truth.
 */
class TopLimitedProperties {
  private static final long T0 = 1_700_000_100_000L;

  @Example
  void oneMillionDistinctIdentities_holdAtMost19TimesCapacityCounters() {
    int capacity = LiveView.DEFAULT_CAPACITY;
    TopLimited top = new TopLimited(capacity);
    long now = T0;
    for (int i = 0; i < 1_000_000; i++) {
      now = T0 + i * 4L; // 4 ms apart: the stream spans about 67 minutes, so every bucket fills
      top.add("ip:" + i, "ip", Integer.toString(i), Outcomes.LIMITED, now);
      if ((i & 0xffff) == 0) {
        assertThat(top.monitored()).isLessThanOrEqualTo((TopLimited.SHORT_BUCKETS + TopLimited.LONG_BUCKETS) * capacity);
      }
    }
    assertThat(top.monitored()).isLessThanOrEqualTo((TopLimited.SHORT_BUCKETS + TopLimited.LONG_BUCKETS) * capacity);
    assertThat(top.top(true, 20, now).top()).hasSizeLessThanOrEqualTo(20);
  }

  @Property(tries = 30)
  void skewedStream_trueTop10_reportedWithCountsWithinNOverK(
      @ForAll @LongRange(min = 0, max = Long.MAX_VALUE / 2) long seed,
      @ForAll @IntRange(min = 20_000, max = 80_000) int events,
      @ForAll @IntRange(min = 1_000, max = 200_000) int distinct,
      @ForAll @DoubleRange(min = 1.1, max = 1.6) double skew,
      @ForAll @IntRange(min = 0, max = 1) int longWindow) {
    int capacity = LiveView.DEFAULT_CAPACITY;
    TopLimited top = new TopLimited(capacity);
    Random random = new Random(seed);
    Zipf zipf = new Zipf(distinct, skew, random);
    Map<String, Long> truth = new HashMap<>();
    // The stream spans 4 minutes, so both windows hold all of it, spread over several buckets.
    long span = 4 * TopLimited.MINUTE;
    long start = T0 - Math.floorMod(T0, TopLimited.FIVE_MINUTES);
    for (int i = 0; i < events; i++) {
      String id = Integer.toString(zipf.next());
      truth.merge(id, 1L, Long::sum);
      top.add("ip:" + id, "ip", id, Outcomes.LIMITED, start + i * span / events);
    }
    TopLimited.Window window = top.top(longWindow == 1, 10, start + span);
    assertThat(window.events()).isEqualTo(events);
    long bound = (long) events / capacity;
    assertThat(window.maxError()).isEqualTo(bound);
    List<Map.Entry<String, Long>> trueTop = truth.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(10).toList();
    Map<String, Long> reported = window.top().stream().collect(Collectors.toMap(e -> e.value, e -> e.count));
    long tenth = trueTop.get(trueTop.size() - 1).getValue();
    for (Map.Entry<String, Long> t : trueTop) {
      // An identity clearly in the top 10 (more than 2·N/K above the 11th) must be reported.
      long eleventh = truth.entrySet().stream().map(Map.Entry::getValue).sorted((a, b) -> Long.compare(b, a))
          .skip(10).findFirst().orElse(0L);
      if (t.getValue() > eleventh + 2 * bound) {
        assertThat(reported).as("true top-10 identity %s (count %d)", t.getKey(), t.getValue()).containsKey(t.getKey());
      }
    }
    for (TopLimited.Entry e : window.top()) {
      long real = truth.getOrDefault(e.value, 0L);
      assertThat(Math.abs(e.count - real)).as("count of %s", e.value).isLessThanOrEqualTo(bound);
      assertThat(e.count).as("a reported identity is not far below the true 10th").isGreaterThanOrEqualTo(tenth - 2 * bound);
    }
  }

  /** Zipf-distributed ranks 0..n-1 by inverse CDF over precomputed weights. */
  static final class Zipf {
    private final double[] cdf;
    private final Random random;

    Zipf(int n, double s, Random random) {
      this.random = random;
      cdf = new double[n];
      double sum = 0;
      for (int i = 0; i < n; i++) {
        sum += 1 / Math.pow(i + 1, s);
        cdf[i] = sum;
      }
      for (int i = 0; i < n; i++) {
        cdf[i] /= sum;
      }
    }

    int next() {
      double u = random.nextDouble();
      int i = java.util.Arrays.binarySearch(cdf, u);
      return i >= 0 ? i : Math.min(-i - 1, cdf.length - 1);
    }
  }
}
