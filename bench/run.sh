#!/usr/bin/env bash
# One command, loopback only, about 10 minutes: Sluice vs nginx limit_req vs Flask-Limiter.
#
#   bench/run.sh                 # full run: 3 interleaved repeats, writes bench/results/gateway.md
#   bench/run.sh --repeats 1     # quicker look (any harness.py option is passed through)
#   bench/run.sh --only redis --repeats 1 --flood-seconds 5 --warmup-seconds 10 --quiet-seconds 3
#                                # ~1 min subset: only targets whose name contains "redis" (Sluice
#                                # on Redis, Flask-Limiter on Redis), incl. the Redis commands per
#                                # decision table; writes bench/results/gateway-subset.md/.json
#
#   bench/run.sh --floor         # also the Netty floor: the cheapest Netty servers doing the same jobs
#                                # with no limiting (dev.sluice.benchmarks.floor.NettyFloor, same java
#                                # command as the gateway): a constant 429 in the flood table (a) and a
#                                # minimal keep-alive proxy in b2; what no Netty gateway can beat here.
#                                # --only floor selects both. Jar: FLOOR_JAR (default
#                                # benchmarks/target/benchmarks.jar, built here when missing)
#
#   bench/run.sh --floor --java-opts=-Dsluice.transport=io_uring
#                                # the same with these java options for Sluice and the floor
#
#   bench/run.sh --cold          # cold start and footprint (bench/cold.py), beside nginx limit_req:
#                                # start to ready (/readyz 2xx), flood rejections/s in the first 8 s
#                                # after ready vs after 30 s more, RSS under the flood; the gateway
#                                # started by packaging/bin/sluice with its default options (class-data
#                                # sharing archive written by one untimed start first); writes
#                                # bench/results/cold.md/.json
#   bench/run.sh --cold --pin both --repeats 3
#                                # the same, unpinned and then pinned: the gateway on its own CPU
#                                # (taskset -c <last CPU>), wrk on the others, so the client's CPU does
#                                # not compete with it (--pin on: pinned only; needs >= 2 CPUs)
#   bench/run.sh --cold --pin both --floor
#                                # the same with the Netty floor's constant 429 beside it (same JVM
#                                # options as serve): the cold/warm a Netty server reaches on this JVM
#   bench/run.sh --cold --vs-jar /path/to/base.jar --opts "SLUICE_CDS=off -XX:+UseG1GC -Xms64m -Xmx512m"
#                                # paired: another jar and/or the launcher with other settings
#                                # (leading KEY=VALUE words are environment, the rest SLUICE_JAVA_OPTS),
#                                # in the same interleaved rounds; --no-nginx leaves nginx out
#   bench/run.sh --cold --vs-jar base.jar --vs-launcher base-launcher.sh
#                                # the other jar with its own launcher (both the jar and the JVM options paired)
#   bench/run.sh --profile flood # where the gateway's CPU goes (bench/profile.py): a JFR profile of
#   bench/run.sh --profile pass  # Sluice under a flood / a pass-through to a static upstream, after
#                                # 20 s of warm-up; self, inclusive and per-package shares; writes
#                                # bench/results/profile-<load>.md (--seconds N, --top N)
#
# Uses cli/target/sluice.jar (SLUICE_JAR=... to pick another; built here when missing).
# Installs missing Debian packages (wrk nghttp2-client nginx gunicorn python3-flask python3-flask-limiter
# python3-redis redis-server) with apt-get. Every process it starts binds 127.0.0.1 and is
# stopped by PID when the run ends.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for bin_pkg in wrk:wrk h2load:nghttp2-client nginx:nginx /usr/bin/gunicorn:gunicorn redis-server:redis-server; do
  command -v "${bin_pkg%%:*}" >/dev/null 2>&1 || missing+=("${bin_pkg##*:}")
done
for mod_pkg in flask:python3-flask flask_limiter:python3-flask-limiter redis:python3-redis; do
  /usr/bin/python3 -I -c "import ${mod_pkg%%:*}" 2>/dev/null || missing+=("${mod_pkg##*:}")
done
if ((${#missing[@]})); then
  echo "[bench] installing: ${missing[*]}"
  apt-get install -y -q "${missing[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

jar="${SLUICE_JAR:-cli/target/sluice.jar}"
if [[ ! -f "$jar" ]]; then
  echo "[bench] $jar missing: building it"
  mvn -B -q -pl cli -am package -DskipTests
fi

for arg in "$@"; do
  if [[ "$arg" == "--floor" ]]; then
    floor_jar="${FLOOR_JAR:-benchmarks/target/benchmarks.jar}"
    if [[ ! -f "$floor_jar" ]]; then
      echo "[bench] $floor_jar missing: building it"
      mvn -B -q -pl benchmarks -am package -DskipTests
    fi
    set -- "$@" --floor-jar "$floor_jar"
    break
  fi
done

if [[ "${1:-}" == "--profile" ]]; then
  shift
  exec /usr/bin/python3 bench/profile.py --sluice-jar "$jar" "$@"
fi
exec /usr/bin/python3 bench/harness.py --sluice-jar "$jar" "$@"
