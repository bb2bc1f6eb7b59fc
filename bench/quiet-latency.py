#!/usr/bin/python3
"""A well-behaved client's latency through nginx and through Sluice, side by side (G4 in
docs/benchmarks.md): both proxy /limited (limit 10/s per address) to the same static nginx
upstream; bench/legit.py sends RATE requests/s from 127.0.0.2 (keep-alive) in WINDOWS windows of
SECONDS, alternating which proxy goes first, after a 15 s flood of Sluice for the JIT. Prints each
window, then p50/p90/p99/p99.9/max per proxy over all windows, and Sluice's GC pauses (from its
-Xlog:gc) during the windows, so a tail the collector causes shows up as such.

    bench/quiet-latency.py JAR [--rate 9] [--seconds 10] [--windows 6] [--flood] [--warm-proxy]
                           [--warm-seconds 15] [--java-opts="..."]

--flood runs wrk -t1 -c32 on the measured proxy during each window. Each Sluice window also
reports how many methods the JIT compiled during it (jstat -compiler), so a window measured while
the admitted path is still being compiled shows up as such; --warm-seconds lengthens the warm-up. Loopback only; every process
is started here and stopped here by PID. Keep RATE under 10 to measure admitted (proxied) requests.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)
import cold  # noqa: E402  (its stack helpers: ports, nginx and Sluice configs, processes)
from stats import percentile  # noqa: E402  (nearest rank, as the bench's own tables)


def compiled(pid):
    """Methods the JVM's JIT has compiled so far (jstat -compiler's first column)."""
    out = subprocess.run(["jstat", "-compiler", str(pid)], capture_output=True, text=True, check=True).stdout
    return int(out.splitlines()[1].split()[0])


def gc_pauses(gclog):
    with open(gclog) as f:
        return f.read().count("Pause")


def main():
    ap = argparse.ArgumentParser(description="legit-client latency through nginx and Sluice")
    ap.add_argument("jar")
    ap.add_argument("--rate", type=float, default=9)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--windows", type=int, default=6)
    ap.add_argument("--flood", action="store_true")
    ap.add_argument("--warm-proxy", action="store_true")
    ap.add_argument("--warm-seconds", type=int, default=15)
    ap.add_argument("--java-opts", default="")
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="quiet-latency-")
    gclog = os.path.join(d, "gc.log")
    stack = cold.SideBySide(d, a.jar, [*a.java_opts.split(), f"-Xlog:gc:file={gclog}"])
    nginx_port, sluice_port, sluice = stack.nginx_port, stack.sluice_port, stack.sluice
    try:
        # The JIT: a flood (refusals) and a burst of the legit client (admitted and refused);
        # --warm-proxy also runs proxied requests, as a gateway whose traffic is mostly admitted
        # has compiled that path long before.
        stack.warm(a.warm_seconds, a.warm_proxy)
        cold.legit(sluice_port, 40, 5)
        samples = {"nginx": [], "sluice": []}
        pauses = []
        compiles = []
        for w in range(a.windows):
            order = [("nginx", nginx_port), ("sluice", sluice_port)]
            for name, port in order if w % 2 == 0 else reversed(order):
                flood = None
                if a.flood:
                    flood = subprocess.Popen(["wrk", "-t1", "-c32", f"-d{a.seconds + 1:.0f}s",
                                              f"http://127.0.0.1:{port}/limited"], stdout=subprocess.DEVNULL)
                    time.sleep(0.5)
                before = gc_pauses(gclog)
                compiled_before = compiled(sluice.popen.pid)
                j = cold.legit(port, a.rate, a.seconds)
                if name == "sluice":
                    pauses.append(gc_pauses(gclog) - before)
                    compiles.append(compiled(sluice.popen.pid) - compiled_before)
                if flood:
                    flood.wait()
                samples[name] += j["samples_ms"]
                print(f"window {w} {name}: n={j['n']} p50={j['p50_ms']:.2f} p99={j['p99_ms']:.2f} "
                      f"max={j['max_ms']:.2f} ms statuses={j['statuses']}", flush=True)
        for name, s in samples.items():
            q = {p: percentile(s, p) for p in (50, 90, 99, 99.9)}
            print(f"{name}: n={len(s)} p50={q[50]:.2f} p90={q[90]:.2f} p99={q[99]:.2f} "
                  f"p99.9={q[99.9]:.2f} max={max(s):.2f} ms")
        print("Sluice's GC pauses in each window:", pauses)
        print("methods Sluice's JIT compiled in each window:", compiles)
        with open(gclog) as f:
            all_pauses = [float(m) for m in re.findall(r"Pause.* (\d+\.\d+)ms", f.read())]
        if all_pauses:
            print(f"all its GC pauses: n={len(all_pauses)} median={statistics.median(all_pauses):.2f} "
                  f"max={max(all_pauses):.2f} ms")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
