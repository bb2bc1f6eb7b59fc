#!/usr/bin/env bash
# Every figure of docs/benchmarks.md in one command (~18 min, loopback only): the JMH engine
# benchmarks and heap per identity (bench/jmh.sh), the gateway load harness (bench/run.sh), then
# both plots. Run it on an otherwise idle machine: the two parts run one after the other so they
# never compete for the cores. Results land in bench/results/ and docs/*.png.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -DskipTests install
bench/jmh.sh
bench/run.sh
bench/plot-jmh.sh
bench/plot.sh
