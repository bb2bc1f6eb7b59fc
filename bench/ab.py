#!/usr/bin/python3
"""Paired A/B of two gateway variants: both run at once, beside one static nginx upstream, and
wrk windows alternate A,B / B,A, so drift on a shared machine hits both alike.

usage: bench/ab.py BASE_JAR CAND_JAR [--pairs N] [--seconds S] [--warmup S] [--conns N]
                   [--load flood|pass|rate|legit|decide] [--rps N] [--a-opts=OPTS] [--b-opts=OPTS]
                   [--a-java=JAVA] [--b-java=JAVA] [--machine]

A variant is a jar plus java options, given after the launcher's serve options as the launcher
does (cold.serve_java: the serial collector and 16-512 MiB heap unless the options name others;
the same jar twice with different --b-opts compares a
switch, e.g. --b-opts=-Dsluice.transport=epoll) and a java command (--b-java=/path/to/jdk/bin/java
compares runtimes). flood: /limited (every request refused);
pass: /static (forwarded to nginx's `return 200`); rate: /static at a fixed --rps with h2load (16
connections, loads.h2load_fixed_rate), whose p99 each window reports instead of req/s (the tail
a proxy adds when it is not saturated, table b3); legit: the flood, and beside it the harness's two
well-behaved clients (keep-alive, and a new connection per request: table c/c2) on /limited from
their own addresses, whose p99 each window reports (the new-connection client's is the figure;
the last line also pools each client's samples over all windows); decide: keep-alive POSTs to the
decision API's /v1/decide (`decision.listen`), each asking about a request to /limited from one
peer (refused, as in the flood). Prints each window's req/s and
CPU per request (the gateway process's user+system time; with --machine the whole machine's busy time, which
also counts wrk, nginx and kernel threads), then the median and min-max of the per-pair B/A
ratios. The policy and nginx files are bench/cold.py's.
"""
import argparse, os, statistics as st, sys, tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cold  # noqa: E402
from loads import decide_script, h2load_fixed_rate, legit_finish, legit_start, wrk  # noqa: E402
from procs import Proc, cpu_seconds, wait_ready  # noqa: E402
from stats import percentile  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid):
    return cpu_seconds([pid])


def machine_cpu(_pid):
    with open("/proc/stat") as f:
        v = list(map(int, f.readline().split()[1:9]))
    return (sum(v) - v[3] - v[4]) / CLK  # all but idle and iowait


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("cand")
    ap.add_argument("--pairs", type=int, default=6)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--load", choices=["flood", "pass", "rate", "legit", "decide"], default="flood")
    ap.add_argument("--rps", type=int, default=20000, help="the fixed rate of --load rate")
    ap.add_argument("--a-java", default="java", help="the java command of A (e.g. another JDK's bin/java)")
    ap.add_argument("--b-java", default="java", help="the java command of B")
    ap.add_argument("--a-opts", default="")
    ap.add_argument("--b-opts", default="")
    ap.add_argument("--machine", action="store_true", help="CPU of the whole machine, not the gateway's")
    a = ap.parse_args()
    cpu = machine_cpu if a.machine else process_cpu
    d = tempfile.mkdtemp(prefix="ab-")
    upstream, static = cold.static_nginx(d)
    runs = [upstream]
    gws = {}
    try:
        for name, jar, opts, java in (("A", a.base, a.a_opts, a.a_java), ("B", a.cand, a.b_opts, a.b_java)):
            sd = os.path.join(d, name)
            os.makedirs(sd)
            port, admin = cold.free_port(), cold.free_port()
            conf = cold.sluice_conf(sd, port, admin, static)
            if a.load == "decide":
                port = cold.free_port()
                with open(conf, "a") as f:
                    f.write(f"decision:\n  listen: 127.0.0.1:{port}\n")
            r = Proc("sluice", [java, *cold.serve_java(opts), "-jar", jar, "serve", "-c", conf], sd)
            runs.append(r)
            if wait_ready(f"http://127.0.0.1:{admin}/readyz", r) is None:
                sys.exit(f"{name} not ready, see {r.log_path}")
            path = {"flood": "/limited", "legit": "/limited", "decide": "/v1/decide"}.get(a.load, "/static")
            gws[name] = (r.popen.pid, f"http://127.0.0.1:{port}{path}")
        script = decide_script(d, "/limited") if a.load == "decide" else None
        for pid, url in gws.values():
            wrk(url, a.warmup, a.conns, script=script)
        res = {"A": [], "B": []}
        samples = {(name, mode): [] for name in res for mode in ("keepalive", "newconn")}
        for i in range(a.pairs):
            for name in (("A", "B") if i % 2 == 0 else ("B", "A")):
                pid, url = gws[name]
                c0 = cpu(pid)
                if a.load == "rate":
                    h = h2load_fixed_rate(url, a.seconds, a.rps)
                    n, figure = h["n"] + h["failed"], h["p99_ms"]
                    print(f"pair {i} {name}: p99 {figure:.3f} ms at {h['rps']:,.0f} req/s ({h['failed']} failed), ", end="")
                elif a.load == "legit":
                    clients = {mode: legit_start(url, a.seconds, mode) for mode in ("keepalive", "newconn")}
                    w = wrk(url, a.seconds, a.conns)
                    n, secs = w["requests"], w["elapsed_s"]
                    got = {mode: legit_finish(c) for mode, c in clients.items()}
                    for mode, g in got.items():
                        samples[(name, mode)].extend(g["samples_ms"])
                    figure = got["newconn"]["p99_ms"]
                    print(f"pair {i} {name}: new connection p99 {figure:.2f} ms, keep-alive p99 "
                          f"{got['keepalive']['p99_ms']:.2f} ms, flood {n / secs:,.0f} req/s, ", end="")
                else:
                    w = wrk(url, a.seconds, a.conns, script=script)
                    n, secs = w["requests"], w["elapsed_s"]
                    figure = n / secs
                    print(f"pair {i} {name}: {figure:,.0f} req/s, ", end="")
                c1 = cpu(pid)
                res[name].append((figure, (c1 - c0) / n * 1e6))
                print(f"{(c1 - c0) / n * 1e6:.1f} us CPU/req", flush=True)
        unit = "p99" if a.load in ("rate", "legit") else "req/s"
        rate = [b[0] / x[0] for x, b in zip(res["A"], res["B"])]
        cpur = [b[1] / x[1] for x, b in zip(res["A"], res["B"])]
        def med(name, i, fmt):
            return format(st.median(x[i] for x in res[name]), fmt)
        fig = ".3f" if a.load in ("rate", "legit") else ",.0f"
        print(f"B/A {unit}: median {st.median(rate):.3f} ({min(rate):.3f}-{max(rate):.3f}); "
              f"CPU/req: median {st.median(cpur):.3f} ({min(cpur):.3f}-{max(cpur):.3f}); "
              f"A med {unit} {med('A', 0, fig)} {med('A', 1, '.1f')}us, "
              f"B med {unit} {med('B', 0, fig)} {med('B', 1, '.1f')}us")
        if a.load == "legit":
            for mode in ("keepalive", "newconn"):
                pa, pb = (percentile(samples[(v, mode)], 99) for v in ("A", "B"))
                print(f"{mode} p99 over all windows: A {pa:.2f} ms, B {pb:.2f} ms (B/A {pb / pa:.3f}; "
                      f"{len(samples[('A', mode)])} and {len(samples[('B', mode)])} requests)")
    finally:
        for r in reversed(runs):
            r.stop()


if __name__ == "__main__":
    main()
