package dev.sluice.gateway.metrics;

import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.TimeWindowMax;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.Exemplars;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code sluice_upstream_seconds{status}}: an exact histogram of upstream response times, exposed
 * exactly as a Micrometer timer with the same buckets would be ({@code _bucket}, {@code _count},
 * {@code _sum}, and the gauge {@code sluice_upstream_seconds_max} over Micrometer's 2-minute
 * window), but cheaper to record: one striped counter per bucket and one for the sum, no clock
 * read and no shared atomic that two event loops would take turns on.
 *
 * <p>Every response is counted ({@code _count} is the number of upstream responses; the alert
 * rules and operations.md rely on it). Thread-safe; recording never blocks or allocates.
 */
final class UpstreamLatency implements MultiCollector {
  private static final String NAME = "sluice_upstream_seconds";
  private final String help;
  private final long[] upperNanos;
  private final double[] upperSeconds;
  private final Series[] byClass = new Series[5];

  private static final class Series {
    final Labels labels;
    final LongAdder[] buckets;
    final LongAdder sumNanos = new LongAdder();
    final TimeWindowMax max;

    Series(Labels labels, int buckets, Clock clock) {
      this.labels = labels;
      this.buckets = new LongAdder[buckets + 1];
      for (int i = 0; i < this.buckets.length; i++) {
        this.buckets[i] = new LongAdder();
      }
      this.max = new TimeWindowMax(clock, DistributionStatisticConfig.DEFAULT);
    }
  }

  UpstreamLatency(String help, long[] upperNanos, Clock clock) {
    this.help = help;
    this.upperNanos = upperNanos.clone();
    this.upperSeconds = new double[upperNanos.length + 1];
    for (int i = 0; i < upperNanos.length; i++) {
      upperSeconds[i] = upperNanos[i] / 1e9;
    }
    upperSeconds[upperNanos.length] = Double.POSITIVE_INFINITY;
    for (int i = 0; i < byClass.length; i++) {
      byClass[i] = new Series(Labels.of("status", (i + 1) + "xx"), upperNanos.length, clock);
    }
  }

  /** Records one response of status class {@code index} (0 = 1xx … 4 = 5xx). */
  void record(int index, long nanos) {
    if (nanos < 0) {
      return; // as a Micrometer timer: a negative duration is not an observation
    }
    Series s = byClass[index];
    int i = 0;
    while (i < upperNanos.length && nanos > upperNanos[i]) {
      i++;
    }
    s.buckets[i].increment();
    s.sumNanos.add(nanos);
    s.max.record((double) nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public MetricSnapshots collect() {
    List<HistogramDataPointSnapshot> points = new ArrayList<>(byClass.length);
    List<GaugeDataPointSnapshot> maxima = new ArrayList<>(byClass.length);
    for (Series s : byClass) {
      long[] counts = new long[s.buckets.length];
      for (int i = 0; i < counts.length; i++) {
        counts[i] = s.buckets[i].sum();
      }
      points.add(new HistogramDataPointSnapshot(ClassicHistogramBuckets.of(upperSeconds, counts),
          s.sumNanos.sum() / 1e9, s.labels, Exemplars.EMPTY, 0L));
      maxima.add(new GaugeDataPointSnapshot(s.max.poll(TimeUnit.SECONDS), s.labels, null));
    }
    return new MetricSnapshots(
        new HistogramSnapshot(new MetricMetadata(NAME, help), points),
        new GaugeSnapshot(new MetricMetadata(NAME + "_max", help), maxima));
  }
}
