#!/usr/bin/env bash
# One command for the embedded benchmarks: builds benchmarks/target/benchmarks.jar, runs every JMH
# benchmark (Sluice engine + bare GCRA step vs Bucket4j, Guava, Resilience4j; hot key on 1 and 2
# threads, 1,000,000 random keys; allowed and rejected paths; -prof gc) and the memory-per-identity
# measurement, then writes bench/results/{jmh.json,memory.md,jmh.md} (RESULTS_DIR=... elsewhere)
# and prints the tables. SLUICE_BUILD_DIR=target-x builds into another output folder.
# About 12 minutes: one fork per benchmark with a pre-touched 2 GiB heap, 2 warm-up + 5 measured
# 1-second iterations, except the 1,000,000-random-key benchmarks, which get 3 forks (one fork's
# memory layout can move their figure by a third; the report takes the median over all forks).
# Extra arguments go to JMH (e.g. a benchmark regex, or -p path=rejected) and replace that split:
# one JMH run, one fork unless they say -f.
#
#   bench/jmh.sh
#   bench/jmh.sh RandomKeys -p path=rejected
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${SLUICE_BUILD_DIR:-target}"
jar="benchmarks/$build_dir/benchmarks.jar"
mvn -B -q -Dsluice.build.dir="$build_dir" -pl benchmarks -am package -DskipTests
out="${RESULTS_DIR:-bench/results}"
mkdir -p "$out"
echo "[jmh] load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
common=(-wi 2 -i 5 -w 1s -r 1s -prof gc -rf json)
if (($#)); then
  java -jar "$jar" -f 1 "${common[@]}" -rff "$out/jmh.json" "$@"
else
  java -jar "$jar" -f 1 "${common[@]}" -rff "$out/jmh-1fork.json" -e RandomKeysBenchmark
  java -jar "$jar" -f 3 "${common[@]}" -rff "$out/jmh-3forks.json" RandomKeysBenchmark
  /usr/bin/python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1])) + json.load(open(sys.argv[2])), open(sys.argv[3], "w"))' \
    "$out/jmh-1fork.json" "$out/jmh-3forks.json" "$out/jmh.json"
  rm -f "$out/jmh-1fork.json" "$out/jmh-3forks.json"
fi
echo "[jmh] load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
# JMH pretty-prints; the compact form keeps the committed result small.
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); json.dump(d, open(sys.argv[1], "w"), separators=(",", ":"))' "$out/jmh.json"
java -Xmx4g -cp "$jar" dev.sluice.benchmarks.MemoryPerIdentity > "$out/memory.md"
/usr/bin/python3 bench/jmh_report.py "$out/jmh.json" "$out/memory.md" > "$out/jmh.md"
cat "$out/jmh.md"
