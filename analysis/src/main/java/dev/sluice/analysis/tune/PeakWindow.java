package dev.sluice.analysis.tune;

/**
 * One identity's exact sliding-window maximum: the most requests it sent in any window {@code
 * (t − period, t]} ending at one of its requests. Holds the times of the requests still inside the
 * window (a growable ring), so it is exact and its memory is that identity's busiest window. Times
 * must not decrease. Not thread-safe.
 */
final class PeakWindow {
  private long[] times = new long[4];
  private int head;
  private int size;
  long peak;

  void add(long nanos, long periodNanos) {
    while (size > 0 && times[head] <= nanos - periodNanos) {
      head = (head + 1) & (times.length - 1);
      size--;
    }
    if (size == times.length) {
      long[] grown = new long[times.length * 2];
      for (int i = 0; i < size; i++) {
        grown[i] = times[(head + i) & (times.length - 1)];
      }
      times = grown;
      head = 0;
    }
    times[(head + size) & (times.length - 1)] = nanos;
    size++;
    if (size > peak) {
      peak = size;
    }
  }
}
