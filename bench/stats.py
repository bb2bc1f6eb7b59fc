"""The bench's statistics: a median that skips missing values and the nearest-rank percentile every
table and tool here reports (bench/legit.py, low-rate.py, quiet-latency.py, the gateway report)."""

import statistics


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def percentile(samples, p):
    """The p-th percentile (nearest rank) of samples, or None when there are none."""
    s = sorted(samples)
    if not s:
        return None
    return s[min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1)]

