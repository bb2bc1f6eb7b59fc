#!/usr/bin/python3
"""A new gateway's first requests at a low rate: what a JVM option that helps a start under a
flood costs a quiet start, the common one (docs/benchmarks.md §4 "Cold start").

    bench/fresh-latency.py [--jar cli/target/sluice.jar] [--requests 3000] [--rounds 2]
                           [--opts=OPTS ...]

For every round and variant (the default options, then each --opts, interleaved) the gateway is
started with the shipped launcher (one untimed start first writes its class-data sharing archive,
cold.prime), and one keep-alive client sends --requests GETs of /free (no limit: proxied to a
static nginx of its own), one at a time with a 2 ms pause between them. Printed per variant and round: the median
latency of requests 1-100, 101-1000, 1001-2000 and the rest, the p99 of the rest, and the
gateway's CPU over all of them. Loopback only; every process is started and stopped here, by PID.
"""
import argparse
import http.client
import os
import statistics
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)
import cold  # noqa: E402  (ports, configs, the static upstream, the launcher)
from procs import Proc, cpu_seconds, wait_ready  # noqa: E402
from ports import free_port  # noqa: E402
from stats import percentile  # noqa: E402


def one(workdir, jar, opts, static_port, requests):
    variant = dict(name=opts or "(default)", jar=jar,
                   env={"SLUICE_JAVA_OPTS": opts, "SLUICE_CDS_DIR": os.path.join(workdir, "cds-" + str(abs(hash(opts))))})
    cold.prime(workdir, variant, static_port)  # the class-data sharing archive a user has after a first start
    d = tempfile.mkdtemp(dir=workdir)
    port, admin = free_port(), free_port()
    conf = cold.sluice_conf(d, port, admin, static_port)
    proc = Proc("sluice", [cold.LAUNCHER, "serve", "-c", conf], d, env={"SLUICE_JAR": jar, **variant["env"]})
    try:
        if wait_ready(f"http://127.0.0.1:{admin}/readyz", proc) is None:
            raise RuntimeError(f"the gateway never got ready, see {proc.log_path}")
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        before = cpu_seconds([proc.popen.pid])
        latencies = []
        for _ in range(requests):
            start = time.perf_counter()
            client.request("GET", "/free")
            answer = client.getresponse()
            answer.read()
            if answer.status != 200:
                raise RuntimeError(f"/free answered {answer.status}")
            latencies.append((time.perf_counter() - start) * 1e3)
            time.sleep(0.002)
        client.close()
        return latencies, cpu_seconds([proc.popen.pid]) - before
    finally:
        proc.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jar", default=os.path.join(cold.ROOT, "cli", "target", "sluice.jar"))
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--opts", action="append", default=[], help="SLUICE_JAVA_OPTS of another variant")
    args = ap.parse_args()
    if args.requests < 2001:
        ap.error("--requests must be above 2000 (the last segment starts there)")
    workdir = tempfile.mkdtemp(prefix="sluice-fresh-")
    static, static_port = cold.static_nginx(workdir, workers="1")
    try:
        for r in range(args.rounds):
            for opts in ["", *args.opts]:
                lat, cpu = one(workdir, os.path.abspath(args.jar), opts, static_port, args.requests)
                med = lambda a, b: statistics.median(lat[a:b])  # noqa: E731
                print(f"round {r + 1} {opts or '(default)'}: median ms 1-100 {med(0, 100):.2f}, "
                      f"101-1000 {med(100, 1000):.2f}, 1001-2000 {med(1000, 2000):.2f}, "
                      f"2001-{args.requests} {med(2000, args.requests):.2f} (p99 "
                      f"{percentile(lat[2000:], 99):.2f}); gateway CPU {cpu:.2f} s", flush=True)
    finally:
        static.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
