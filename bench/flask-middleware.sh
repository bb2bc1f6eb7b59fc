#!/usr/bin/env bash
# Flask middleware benchmark, one run, a few minutes, loopback only (docs/benchmarks.md §5):
# the example Flask API under gunicorn -w 4 (sync) with (a) no limiting, (b) sluice-flask + the
# decision service on the memory store, (c) on Redis, (d) Flask-Limiter memory, (e) Flask-Limiter
# Redis, same limits; plus decisions/s of the decision API from keep-alive wrk clients.
#
#   bench/flask-middleware.sh            # writes bench/results/flask-middleware.md and .json
#
# Uses cli/target/sluice.jar (SLUICE_JAR=... for another; built when missing) and sluice-flask
# from clients/python/src (on PYTHONPATH; nothing is installed). Installs missing Debian packages
# (wrk gunicorn python3-flask python3-flask-limiter python3-redis redis-server).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for bin_pkg in wrk:wrk /usr/bin/gunicorn:gunicorn redis-server:redis-server; do
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

exec /usr/bin/python3 bench/flask_middleware.py --sluice-jar "$jar" "$@"
