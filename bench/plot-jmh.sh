#!/usr/bin/env bash
# Draws docs/benchmarks-engine.png (ns per decision per limiter and scenario, log scale, median of
# the measured iterations) from bench/results/jmh.json. Needs gnuplot (Debian: gnuplot-nox).
# Usage: bench/plot-jmh.sh [jmh.json [out.png]]
set -euo pipefail
cd "$(dirname "$0")/.."
json="${1:-bench/results/jmh.json}"
png="${2:-docs/benchmarks-engine.png}"
data=$(mktemp)
trap 'rm -f "$data"' EXIT
/usr/bin/python3 - "$data" "$json" <<'PY'
import json, statistics, sys
limiters = ["sluiceEngine", "sluiceStore", "bucket4j", "guava", "resilience4j"]
scenarios = [("HotKeyBenchmark.OneThread", "hot key\\n1 thread"), ("HotKeyBenchmark.TwoThreads", "hot key\\n2 threads"),
             ("RandomKeysBenchmark", "1M random keys\\n1 thread")]
ns = {}
for r in json.load(open(sys.argv[2])):
    scenario, method = r["benchmark"].replace("dev.sluice.benchmarks.", "").rsplit(".", 1)
    raw = [x for fork in r["primaryMetric"]["rawData"] for x in fork]
    ns[(scenario, r["params"]["path"], method)] = statistics.median(raw)
with open(sys.argv[1], "w") as f:
    for scenario, title in scenarios:
        for path in ("allowed", "rejected"):
            row = [ns.get((scenario, path, m), float("nan")) for m in limiters]
            f.write(f'"{title}\\n{path}" ' + " ".join(f"{v:.1f}" for v in row) + "\n")
PY
gnuplot <<GP
set terminal pngcairo size 1150,500 font "sans,10" noenhanced
set bmargin 5
set output "$png"
set title "One rate-limit decision: ns per call, median of iterations (log scale, lower is better)"
set style data histogram
set style histogram clustered gap 1.5
set style fill solid 0.8 border -1
set logscale y
set yrange [10:5000]
set grid ytics
set ylabel "ns per decision"
set key top left
plot "$data" using 2:xtic(1) title "Sluice engine (full decision)" lc rgb "#1f5fbf", \
     "" using 3 title "Sluice memory store (map + bucket)" lc rgb "#6fa8ff", \
     "" using 4 title "Bucket4j (map)" lc rgb "#e08a2c", \
     "" using 5 title "Guava RateLimiter (map)" lc rgb "#8c8c8c", \
     "" using 6 title "Resilience4j (map)" lc rgb "#4caf50"
GP
echo "wrote $png"
