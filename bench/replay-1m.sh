#!/usr/bin/env bash
# Times `sluice replay` over 1,000,000 access log lines (docs/benchmarks.md, "Replay").
# Usage: bench/replay-1m.sh [LINES]   (the log is generated once into bench/results/raw/, not committed)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lines="${1:-1000000}"
log="$root/bench/results/raw/replay-${lines}.jsonl"
mkdir -p "$root/bench/results/raw"
if [[ ! -f "$log" ]]; then
  python3 "$root/examples/tuning/generate_log.py" --lines "$lines" --days 7 --out "$log"
fi
echo "machine: $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f "wall %e s, user %U s, sys %S s, max RSS %M KiB" \
  "$root/sluice" replay -c "$root/examples/tuning/sluice.yaml" --log "$log" | head -12
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
