#!/usr/bin/python3
"""Where a lightly loaded proxy spends a request (G4 in docs/benchmarks.md): one keep-alive client
at RATE requests/s through nginx and through Sluice, both proxying /limited (10/s per address, so
every request is admitted) to the same static nginx, measured two ways in the same run:

- per hop, from the packets on the loopback interface (tcpdump): client -> proxy -> upstream ("in":
  the proxy's own work on the request), the upstream's answer ("upstream"), and back to the client
  ("out": the proxy's work on the response); p50/p90/p99 of each;
- CPU per request, exact (perf stat's task-clock, per thread): the proxy's threads over SECONDS at
  RATE, minus the same span idle; Sluice's threads by name, so the event loop, the JIT's compiler
  threads and the collector show apart. The static upstream is an nginx of its own (cold.static_nginx),
  so neither proxy's upstream shares its processes, and its CPU is counted for neither.

    bench/low-rate.py JAR [--rate 9] [--seconds 20] [--settle 60] [--java-opts="..."] [--floor BENCH_JAR]

Before measuring, Sluice gets 15 s of refusals, 15 s of proxied requests and SETTLE seconds of the
client itself at RATE (so the JIT has compiled what the client drives). --floor also measures the
Netty floor proxy (dev.sluice.benchmarks.floor.NettyFloor from benchmarks/target/benchmarks.jar: a
minimal keep-alive reverse proxy, no limiting) on the same java options, warmed with 15 s of
proxied requests and SETTLE seconds of the client: the cost of any Netty proxy in this JVM. Needs tcpdump and perf
(Debian packages of the same names); run as root. Loopback only; every process is started and
stopped here, by PID.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)
import cold  # noqa: E402  (its stack helpers: ports, nginx and Sluice configs, processes)
from procs import Proc, wait_ready  # noqa: E402
from stack import FLOOR_MAIN  # noqa: E402
from stats import percentile  # noqa: E402


def hops(workdir, label, port, upstream, rate, seconds):
    """Per-hop milliseconds of every request of one client run, from tcpdump's timestamps."""
    path = os.path.join(workdir, label + ".pcap.txt")
    with open(path, "w") as out:
        dump = subprocess.Popen(["tcpdump", "-i", "lo", "-nn", "-tt", "-l", f"tcp and (port {port} or port {upstream})"],
                                stdout=out, stderr=subprocess.DEVNULL)
        time.sleep(1)
        cold.legit(port, rate, seconds)
        time.sleep(0.5)
        dump.send_signal(signal.SIGINT)
        dump.wait()
    result = {"in": [], "upstream": [], "out": [], "total": []}
    sent = forwarded = answered = None
    with open(path) as f:
        for line in f:
            m = re.match(r"(\d+\.\d+) IP \S+\.(\d+) > \S+\.(\d+): .* length (\d+)", line)
            if not m or int(m.group(4)) == 0:
                continue  # only segments that carry data
            t, src, dst = float(m.group(1)) * 1e3, int(m.group(2)), int(m.group(3))
            if dst == port:
                sent, forwarded, answered = t, None, None
            elif dst == upstream and sent is not None and forwarded is None:
                forwarded = t
            elif src == upstream and forwarded is not None and answered is None:
                answered = t
            elif src == port and answered is not None:
                result["in"].append(forwarded - sent)
                result["upstream"].append(answered - forwarded)
                result["out"].append(t - answered)
                result["total"].append(t - sent)
                sent = forwarded = answered = None
    return result


def task_clock(pids, action):
    """Milliseconds of CPU per thread name (perf stat task-clock) while action() runs."""
    perf = subprocess.Popen(["perf", "stat", "-e", "task-clock", "--per-thread", "-x", ",",
                             "-p", ",".join(str(p) for p in pids)], stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    action()
    perf.send_signal(signal.SIGINT)
    by_name = {}
    for line in perf.communicate()[1].splitlines():
        parts = line.split(",")
        if len(parts) > 2 and "task-clock" in line:
            try:
                name = parts[0].rsplit("-", 1)[0]
                by_name[name] = by_name.get(name, 0.0) + float(parts[1])
            except ValueError:
                pass
    return by_name


def main():
    ap = argparse.ArgumentParser(description="per-hop latency and CPU per request of a low-rate client")
    ap.add_argument("jar")
    ap.add_argument("--rate", type=float, default=9)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--settle", type=int, default=60)
    ap.add_argument("--java-opts", default="")
    ap.add_argument("--floor", metavar="BENCH_JAR", help="also measure the Netty floor proxy from this jar")
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="low-rate-")
    stack = cold.SideBySide(d, a.jar, a.java_opts.split())
    nginx_port, sluice_port, static = stack.nginx_port, stack.sluice_port, stack.static_port
    try:
        stack.warm(15, proxied=True)
        cold.legit(sluice_port, a.rate, a.settle)
        cold.legit(nginx_port, a.rate, 5)
        proxy_nginx = stack.nginx.popen.pid
        workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(proxy_nginx)], capture_output=True,
                                                  text=True).stdout.split()]
        targets = [("nginx", nginx_port, [proxy_nginx] + workers), ("sluice", sluice_port, [stack.sluice.popen.pid])]
        if a.floor:
            floor_port = cold.free_port()
            floor = Proc("floor", ["java", *cold.serve_java(a.java_opts), "-cp", os.path.abspath(a.floor),
                                   FLOOR_MAIN, "--port", str(floor_port),
                                   "--mode", "proxy", "--upstream", str(static)], d)
            stack.runs.append(floor)
            if wait_ready(f"http://127.0.0.1:{floor_port}/free", floor) is None:
                sys.exit(f"the Netty floor proxy did not answer (see {floor.log_path})")
            subprocess.run(["wrk", "-t1", "-c16", "-d15s", f"http://127.0.0.1:{floor_port}/free"], capture_output=True)
            cold.legit(floor_port, a.rate, a.settle)
            targets.append(("netty floor proxy", floor_port, [floor.popen.pid]))
        requests = a.rate * a.seconds
        for name, port, pids in targets:
            h = hops(d, name, port, static, a.rate, a.seconds)
            print(f"{name} hops (ms, n={len(h['total'])}): " + "; ".join(
                f"{k} p50 {percentile(v, 50):.3f} p90 {percentile(v, 90):.3f} p99 {percentile(v, 99):.3f}"
                for k, v in h.items() if v), flush=True)
            idle = task_clock(pids, lambda: time.sleep(a.seconds))
            busy = task_clock(pids, lambda p=port: cold.legit(p, a.rate, a.seconds))
            extra = sum(busy.values()) - sum(idle.values())
            top = sorted(busy.items(), key=lambda kv: -kv[1])[:5]
            print(f"{name} CPU: {extra / requests * 1e3:.0f} us per request above idle "
                  f"({sum(busy.values()):.1f} ms at {a.rate:g}/s, {sum(idle.values()):.1f} ms idle, {a.seconds} s each); "
                  "busiest threads: " + ", ".join(f"{n} {ms:.1f} ms" for n, ms in top), flush=True)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
