#!/usr/bin/python3
"""Flask middleware benchmark harness, started by bench/flask-middleware.sh.

Targets (the example API under `gunicorn -w 4 -k sync`, bench/flask_bench_app.py):
  a none             no limiting
  b sluice-memory    sluice-flask + `sluice serve` decision API, memory store
  c sluice-redis     sluice-flask + decision API on Redis
  d limiter-memory   Flask-Limiter 3.x, memory:// (per worker process)
  e limiter-redis    Flask-Limiter 3.x, redis://
Per target: latency at a FIXED rate (open loop, 100 req/s, p50/p99) on /api/items,
req/s at saturation (wrk, 16 connections) on /api/items, CPU per request over that wrk run
(utime+stime from /proc of gunicorn's master and workers + the decision service + redis), and
how many of 200 concurrent requests to /api/search (50 per hour, everyone together) reached the
view. Then decisions/s of the decision API from keep-alive wrk clients (1 and 16 connections).
Every process binds 127.0.0.1 on a free port and is stopped by PID.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loads import decide_script, wrk  # noqa: E402
from ports import free_port  # noqa: E402
from procs import Proc, cpu_seconds, wait_ready  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RATE = 100          # req/s for the fixed-rate latency run (4 clients x 25)
FIXED_SECONDS = 8
SAT_SECONDS = 8
OVER_REQUESTS = 200
LIMIT = 50
# sluice-flask's timeout for the benchmark: generous, so that a loaded machine measures latency
# instead of failing open (on_error: allow would let over-limit requests through).
SLUICE_TIMEOUT = "1.0"

POLICY = """\
version: 1
gateway:
  admin: 127.0.0.1:{admin}
decision:
  listen: 127.0.0.1:{port}
store:
{store}
defaults:
  by: ip
  limits: ["10000000/minute"]
policies:
  - name: search
    match: {{ paths: ["/api/search"] }}
    by: global
    limits: ["{limit}/hour"]
"""


def wait_port(port, proc, seconds=90):
    """Kept here, not procs.wait_ready: a TCP connect, as redis-server speaks no HTTP."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not proc.alive():
            raise SystemExit(f"process for port {port} exited with {proc.popen.returncode}, see {proc.log_path}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on {port}")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def fixed_rate(url):
    """Open loop: request i starts at t0 + i/RATE (16 sender threads, a new connection per request,
    as gunicorn's sync workers close every connection); latency from the scheduled start, so a
    slow answer delaying the next send is counted, not hidden."""
    import http.client
    from urllib.parse import urlsplit
    parts = urlsplit(url)

    def one(when):
        delay = when - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            conn.request("GET", parts.path)
            answer = conn.getresponse()
            answer.read()
            return answer.status, (time.monotonic() - when) * 1000.0
        finally:
            conn.close()

    def run(seconds):
        t0 = time.monotonic() + 0.2
        with ThreadPoolExecutor(16) as pool:
            return list(pool.map(one, [t0 + i / RATE for i in range(RATE * seconds)]))

    run(2)  # warm-up
    results = run(FIXED_SECONDS)
    lat = [ms for _, ms in results]
    bad = sum(1 for status, _ in results if status != 200)
    return {"p50_ms": percentile(lat, 0.5), "p99_ms": percentile(lat, 0.99), "n": len(lat), "non_200": bad}


def saturation(url, pids):
    """pids: the roots whose process trees' CPU is counted (procs.cpu_seconds)."""
    before = cpu_seconds(pids)
    w = wrk(url, SAT_SECONDS, 16, threads=2)
    used = cpu_seconds(pids) - before
    return {"rps": w["rps"], "requests": w["requests"], "non_2xx": w["non2xx"],
            "cpu_ms_per_request": 1000.0 * used / max(w["requests"], 1)}


def over_limit(base):
    def one(_):
        try:
            with urllib.request.urlopen(base + "/api/search?q=a", timeout=30) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(one, range(OVER_REQUESTS)))
    return {"reached_view": statuses.count(200), "refused": statuses.count(429), "limit": LIMIT,
            "sent": OVER_REQUESTS}


def start_sluice(jar, tmp, name, store):
    port, admin = free_port(), free_port()
    policy = tmp / f"{name}.yaml"
    policy.write_text(POLICY.format(port=port, admin=admin, store=store, limit=LIMIT))
    proc = Proc(name, [str(ROOT / "packaging/bin/sluice"), "serve", "-c", str(policy)], tmp,
                env={"SLUICE_JAR": str(jar)})
    try:
        wait_port(port, proc)
    except BaseException:
        proc.stop()  # it may be up without its port: stop it before giving up
        raise
    return proc, f"http://127.0.0.1:{port}"


def run_target(name, env, extra_pids, tmp):
    port = free_port()
    proc = Proc(f"gunicorn-{name}", ["/usr/bin/python3", "-m", "gunicorn", "--chdir", str(ROOT / "examples/flask-api"),
                                     "--pythonpath", str(ROOT / "bench"), "-w", "4", "-k", "sync",
                                     "-b", f"127.0.0.1:{port}", "flask_bench_app:app"],
                tmp, env={"PYTHONPATH": str(ROOT / "clients/python/src"), **env})
    base = f"http://127.0.0.1:{port}"
    try:
        if wait_ready(base + "/healthz", proc, seconds=90) is None:
            raise SystemExit(f"{base}/healthz not ready (gunicorn {name}), see {proc.log_path}")
        time.sleep(1)
        pids = [proc.pid] + extra_pids  # gunicorn's master; its workers are its descendants
        result = {"fixed": fixed_rate(base + "/api/items"), "saturation": saturation(base + "/api/items", pids),
                  "over_limit": over_limit(base)}
    finally:
        proc.stop()
    result["fail_open_warnings"] = Path(proc.log_path).read_text().count("sluice: decision service")
    print(f"[bench] {name}: {json.dumps(result)}", flush=True)
    return result


def decisions_per_second(url, tmp):
    script = decide_script(tmp, "/api/items")  # the Redis service's warm-up reuses it
    wrk(url + "/v1/decide", 5, 16, threads=2, script=script)  # JIT warm-up, not measured
    out = {}
    for conns, threads in ((1, 1), (16, 2)):
        w = wrk(url + "/v1/decide", 8, conns, threads=threads, script=script, latency_text=True)
        out[f"c{conns}"] = {"decisions_per_s": w["rps"], "p50": w["latency"]["50"], "p99": w["latency"]["99"],
                            "non_2xx": w["non2xx"]}
    print(f"[bench] decide: {json.dumps(out)}", flush=True)
    return out


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop what was started, by PID
    parser = argparse.ArgumentParser()
    parser.add_argument("--sluice-jar", required=True)
    parser.add_argument("--out", default=str(ROOT / "bench/results/flask-middleware"))
    args = parser.parse_args()
    jar = Path(args.sluice_jar).resolve()
    tmp = Path(tempfile.mkdtemp(prefix="sluice-flask-bench-"))
    results = {"load_before": os.getloadavg(), "cpus": os.cpu_count(), "rate": RATE}
    redis_port = free_port()
    redis = Proc("redis-server", ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no"], tmp)
    started = time.monotonic()
    try:
        wait_port(redis_port, redis)
        redis_url = f"redis://127.0.0.1:{redis_port}"
        targets = {}
        targets["a none"] = run_target("none", {"BENCH_MODE": "none"}, [], tmp)

        proc, url = start_sluice(jar, tmp, "memory", "  type: memory")
        try:
            # First: it also warms the JVM's JIT before the middleware is measured.
            results["decide"] = decisions_per_second(url, tmp)
            targets["b sluice-memory"] = run_target("sluice-memory", {"BENCH_MODE": "sluice", "SLUICE_DECISION_URL": url,
                                                     "SLUICE_TIMEOUT": SLUICE_TIMEOUT}, [proc.pid], tmp)
        finally:
            proc.stop()
        proc, url = start_sluice(jar, tmp, "redis", f"  type: redis\n  url: {redis_url}")
        try:
            wrk(url + "/v1/decide", 3, 4, script=str(tmp / "decide.lua"))  # JIT warm-up, as for the memory service
            targets["c sluice-redis"] = run_target("sluice-redis", {"BENCH_MODE": "sluice", "SLUICE_DECISION_URL": url,
                                                    "SLUICE_TIMEOUT": SLUICE_TIMEOUT}, [proc.pid, redis.pid], tmp)
        finally:
            proc.stop()
        targets["d limiter-memory"] = run_target("limiter-memory", {"BENCH_MODE": "flask-limiter",
                                                                    "LIMITER_STORAGE": "memory://"}, [], tmp)
        subprocess.run(["redis-cli", "-p", str(redis_port), "FLUSHALL"], capture_output=True)
        targets["e limiter-redis"] = run_target("limiter-redis", {"BENCH_MODE": "flask-limiter",
                                                                  "LIMITER_STORAGE": redis_url}, [redis.pid], tmp)
        results["targets"] = targets
    finally:
        redis.stop()
    results["load_after"] = os.getloadavg()
    results["seconds"] = round(time.monotonic() - started)
    Path(args.out + ".json").write_text(json.dumps(results, indent=2) + "\n")
    Path(args.out + ".md").write_text(report(results))
    print(report(results))
    shutil.rmtree(tmp, ignore_errors=True)


def report(r):
    t = r["targets"]
    base = t["a none"]
    lines = [f"Flask middleware benchmark: {r['cpus']} CPUs, load average before {r['load_before'][0]:.1f}, "
             f"after {r['load_after'][0]:.1f}; {r['seconds']} s.", "",
             f"| target | p50 ms @{r['rate']}/s | p99 ms | added p50 ms | added p99 ms | req/s saturated | "
             "CPU ms/request | over-limit: reached view (limit 50, 200 sent) | fail-open warnings |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, x in t.items():
        f, s, o = x["fixed"], x["saturation"], x["over_limit"]
        lines.append(f"| {name} | {f['p50_ms']:.2f} | {f['p99_ms']:.2f} | {f['p50_ms'] - base['fixed']['p50_ms']:+.2f} | "
                     f"{f['p99_ms'] - base['fixed']['p99_ms']:+.2f} | {s['rps']:.0f} | {s['cpu_ms_per_request']:.2f} | "
                     f"{o['reached_view']} | {x['fail_open_warnings']} |")
    d = r["decide"]
    lines += ["", "Decision API (memory store), wrk keep-alive: "
              + ", ".join(f"{k}: {v['decisions_per_s']:.0f}/s (p50 {v['p50']}, p99 {v['p99']}, non-2xx {v['non_2xx']})"
                          for k, v in d.items()), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
