#!/usr/bin/env bash
# THE test command for Sluice: ./scripts/test.sh [extra Maven arguments]
#
# 1. installs the Debian packages the integration tests run as real processes
#    (Flask under gunicorn, redis-server, nginx, haproxy; systemd-analyze, deb-systemd-helper
#    and systemd-nspawn for the Debian package tests; promtool from prometheus for the alert
#    rules) when any is missing;
# 2. checks Java 17+ and Maven;
# 3. runs `mvn -B verify` for the whole reactor, then the sluice-flask tests (pytest, in a venv
#    over Debian's python3 with the package installed offline; JUnit XML counted below);
# 4. fails when any test was skipped or when no test ran at all, and ends with
#    the line `Tests: N passed, N failed`.
#
# Environment: SLUICE_BUILD_DIR (default: target) = the build output folder of
# every module, passed to Maven as -Dsluice.build.dir; SLUICE_TEST_TIMEOUT
# (default: 900) = seconds one module's test JVM may run before it is killed, so
# a hung test fails the build instead of hanging it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR="${SLUICE_BUILD_DIR:-target}"
TEST_TIMEOUT="${SLUICE_TEST_TIMEOUT:-900}"
PACKAGES=(python3-flask gunicorn python3-gevent python3-gevent-websocket python3-pytest python3-pip python3-venv python3-setuptools redis-server nginx haproxy openssl systemd init-system-helpers systemd-container prometheus chromium chromium-driver)

log() { printf '==> %s\n' "$*"; }
die() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }

# --- 1. system packages -------------------------------------------------------
if ! command -v dpkg-query >/dev/null 2>&1; then
  die "dpkg-query not found: this script installs its test dependencies with apt-get on Debian/Ubuntu; install ${PACKAGES[*]} yourself elsewhere"
fi
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
for package in "${PACKAGES[@]}"; do
  installed "$package" || missing+=("$package")
done
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)

if ((${#missing[@]} > 0)); then
  sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "missing packages ${missing[*]} and not root, and sudo is not available: install them as root"
    sudo=(sudo)
  fi
  log "installing missing packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- 2. toolchain ---------------------------------------------------------------
java_version="$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
java_major="${java_version%%.*}"
[[ "$java_major" == "1" ]] && java_major="$(echo "$java_version" | cut -d. -f2)"
[[ "$java_major" =~ ^[0-9]+$ ]] || die "cannot read the Java version from 'java -version' (got '$java_version')"
((java_major >= 17)) || die "Java 17 or newer is required, found $java_version ($(command -v java))"
mvn -v >/dev/null 2>&1 || die "Maven does not run: 'mvn -v' failed"
log "Java $java_version, $(mvn -v 2>/dev/null | head -1 | sed 's/\x1b\[[0-9;]*m//g')"

# --- 3. build and test ---------------------------------------------------------
# Stale reports from an earlier run must not be counted.
find . -path "*/$BUILD_DIR/surefire-reports" -type d -prune -exec rm -rf {} + 2>/dev/null || true

mvn_args=(-B -Dstyle.color=never verify -Dsluice.build.dir="$BUILD_DIR" -Dsurefire.timeout="$TEST_TIMEOUT" "$@")
log "mvn ${mvn_args[*]}"
set +e
# A signal ignored when this script started (nohup ignores SIGHUP) would stay ignored in every
# `sluice serve` the tests start, and the JVM then never delivers it: reset HUP to its default.
env --default-signal=HUP mvn "${mvn_args[@]}"
mvn_status=$?
set -e
# Maven may leave its last line unterminated (or end it with colour codes); what
# follows, and the summary above all, must stand alone on their own lines.
echo

# sluice-flask (clients/python): pytest against the jar just built; its JUnit XML goes where the
# summary below reads Maven's, so a failed or skipped Python test counts like a Java one.
py_out="clients/python/$BUILD_DIR"
rm -rf "$py_out/surefire-reports" "$py_out/venv"
log "pytest clients/python"
set +e
/usr/bin/python3 -m venv --system-site-packages "$py_out/venv" &&
  "$py_out/venv/bin/pip" install -q --no-build-isolation --no-deps ./clients/python &&
  (cd clients/python && SLUICE_JAR="$PWD/../../cli/$BUILD_DIR/sluice.jar" "$PWD/$BUILD_DIR/venv/bin/python" \
     -m pytest -p no:cacheprovider -rs --junitxml="$BUILD_DIR/surefire-reports/TEST-sluice-flask.xml")
pytest_status=$?
set -e
echo

# --- 4. what ran -----------------------------------------------------------------
summary="$(python3 - "$BUILD_DIR" <<'PY'
import glob, sys
import xml.etree.ElementTree as ET

build_dir = sys.argv[1]
tests = failures = errors = skipped = 0
skipped_names = []
for report in sorted(glob.glob(f"**/{build_dir}/surefire-reports/TEST-*.xml", recursive=True)):
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    for suite in suites:
        tests += int(suite.get("tests", 0))
        failures += int(suite.get("failures", 0))
        errors += int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
        for case in suite.iter("testcase"):
            if case.find("skipped") is not None:
                skipped_names.append(f"{case.get('classname')}.{case.get('name')}")
print(tests, failures + errors, skipped)
for name in skipped_names:
    print("skipped:", name)
PY
)"
read -r total failed skipped <<<"$(head -1 <<<"$summary")"
passed=$((total - failed - skipped))

status=0
if ((mvn_status != 0)); then
  log "mvn exited with status $mvn_status"
  status=1
fi
if ((pytest_status != 0)); then
  log "pytest (clients/python) exited with status $pytest_status"
  status=1
fi
if ((skipped > 0)); then
  log "$skipped test(s) were skipped; skipped tests fail the build (install what they need instead):"
  tail -n +2 <<<"$summary" | sed 's/^/    /'
  status=1
fi
if ((total == 0)); then
  log "no test ran"
  status=1
fi

if ((skipped > 0)); then
  echo "Tests: $passed passed, $failed failed, $skipped skipped"
else
  echo "Tests: $passed passed, $failed failed"
fi
exit "$status"
