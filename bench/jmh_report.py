#!/usr/bin/python3
"""Turns a JMH JSON result (-rf json) of dev.sluice.benchmarks into ratio tables (markdown).

    bench/jmh_report.py bench/results/jmh.json [memory.md] > bench/results/jmh.md

Speed ratios are "times as fast as Bucket4j" = Bucket4j ns/op ÷ limiter ns/op, from the same run
(> 1 means faster than Bucket4j). The ns/op shown is the MEDIAN of the measurement iterations, not
JMH's mean: on a shared machine one descheduled iteration can be 10-100× the others and would
dominate a mean; JMH's mean and its error are shown beside it.
"""

import json
import statistics
import sys

LIMITERS = [
    ("sluiceEngine", "Sluice engine (full decision, decideNow)"),
    ("sluiceEngineStage", "Sluice engine (full decision, decide() stage)"),
    ("sluiceStore", "Sluice memory store (map + bucket)"),
    ("sluiceGcraStep", "Sluice bare GCRA step"),
    ("bucket4j", "Bucket4j (lock-free, map)"),
    ("guava", "Guava RateLimiter (map)"),
    ("resilience4j", "Resilience4j AtomicRateLimiter (map)"),
]
SCENARIOS = [
    ("HotKeyBenchmark.OneThread", "One hot key, 1 thread"),
    ("HotKeyBenchmark.TwoThreads", "One hot key, 2 threads"),
    ("RandomKeysBenchmark", "1,000,000 random keys, 1 thread"),
]


def median_of(metric):
    raw = [x for fork in metric.get("rawData", []) for x in fork]
    return statistics.median(raw) if raw else metric["score"]


def main():
    runs = json.load(open(sys.argv[1]))
    table = {}
    for r in runs:
        name = r["benchmark"].replace("dev.sluice.benchmarks.", "")
        scenario, method = name.rsplit(".", 1)
        path = r.get("params", {}).get("path")
        alloc = r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {})
        alloc_median = median_of(alloc) if alloc else None
        pm = r["primaryMetric"]
        forks = [statistics.median(f) for f in pm.get("rawData", []) if f]
        table[(scenario, path, method)] = (median_of(pm), pm["score"], pm["scoreError"], alloc_median, forks)

    out = []
    for scenario, title in SCENARIOS:
        for path in ("allowed", "rejected"):
            base = table.get((scenario, path, "bucket4j"))
            if base is None:
                continue
            out += [f"### {title}, {path} path", "",
                    "| limiter | ns/op (median) | JMH mean ± 99.9% | B/op | × Bucket4j speed | forks (median of each) |",
                    "|---|---:|---:|---:|---:|---|"]
            for method, label in LIMITERS:
                row = table.get((scenario, path, method))
                if row is None:
                    continue
                ns, mean, err, alloc, forks = row
                err_text = f"{mean:.0f}" if err != err else f"{mean:.0f} ± {err:.0f}"  # NaN: 1 iteration
                alloc_text = "n/a" if alloc is None else f"{alloc:.0f}"
                fork_text = " / ".join(f"{f:.1f}" for f in forks) if len(forks) > 1 else "1"
                out.append(f"| {label} | {ns:.1f} | {err_text} | {alloc_text} | {base[0] / ns:.2f}× | {fork_text} |")
            out.append("")
    if len(sys.argv) > 2:
        out += ["### Heap per tracked identity (1,000,000 keys, forced GC, MemoryMXBean)", "",
                open(sys.argv[2]).read().strip(), ""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
