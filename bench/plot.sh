#!/usr/bin/env bash
# Draws docs/benchmarks-flood.png (rejections/s per limiter, log scale) from bench/results/gateway.json.
# Needs gnuplot (Debian: gnuplot-nox). Usage: bench/plot.sh [results.json [out.png]]
# (defaults: bench/results/gateway.json, docs/benchmarks-flood.png; e.g. a --only subset's
# bench/results/gateway-subset.json /tmp/flood.png)
set -euo pipefail
cd "$(dirname "$0")/.."
json="${1:-bench/results/gateway.json}"
png="${2:-docs/benchmarks-flood.png}"
data=$(mktemp)
trap 'rm -f "$data"' EXIT
# The top of the scale leaves room for the tallest bar's label (prints it).
ymax=$(/usr/bin/python3 - "$data" "$json" <<'PY'
import json, statistics, sys
runs = json.load(open(sys.argv[2]))["flood"]
with open(sys.argv[1], "w") as f:
    for name, rs in runs.items():
        rej = statistics.median(r["rejections_per_s"] for r in rs)
        cpu = statistics.median(r["cpu_us_per_rejection"] for r in rs)
        f.write(f'"{name}" {rej:.0f} {cpu:.1f}\n')
print(int(max(statistics.median(r["rejections_per_s"] for r in rs) for rs in runs.values()) * 4))
PY
)
gnuplot <<GP
set terminal pngcairo size 1150,440 font "sans,10" noenhanced
set output "$png"
set title "Flood on a limited route (~99% refused): rejections/s, median of repeats (log scale)"
set style data histogram
set style fill solid 0.7 border -1
set boxwidth 0.6
set logscale y
set yrange [100:$ymax]
set grid ytics
set ylabel "rejections/s"
unset key
plot "$data" using 2:xtic(1) lc rgb "#3b7dd8", "" using 0:2:(sprintf("%d/s\\n%.0f µs CPU each", \$2, \$3)) with labels offset 0,1.5 font "sans,9" notitle
GP
echo "wrote $png"
