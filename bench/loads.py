"""The load generators the bench drives: wrk (closed loop), h2load at a fixed rate, and the
well-behaved clients of bench/legit.py (keep-alive and a new connection per request)."""

import json
import os
import re
import subprocess
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"  # Debian's python has Flask and Flask-Limiter
LEGIT_SOURCE = "127.0.0.2"
LEGIT_NEWCONN_SOURCE = "127.0.0.3"
LEGIT_RATE = 8.0

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * UNITS[m.group(2)]


def wrk(url, seconds, conns, threads=1, prefix=(), script=None, latency_text=False):
    """One closed-loop wrk run (prefix: e.g. a taskset command; script: a Lua file for wrk -s).
    elapsed_s is the run's own duration as wrk reports it ("N requests in 8.01s"), which rates
    should be divided by. latency_text: also wrk's own text per percentile, as "latency"
    ({"50": "635.91us", ...})."""
    out = subprocess.run([*prefix, "wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency",
                          *(["-s", script] if script else []), url],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    done = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    total = int(done.group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
    res = {
        "requests": total,
        "elapsed_s": to_ms(done.group(2) + done.group(3)) / 1e3,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": to_ms(lat["50"]) if "50" in lat else None,
        "p99_ms": to_ms(lat["99"]) if "99" in lat else None,
        "socket_errors": errors.group(1).strip() if errors else "",
    }
    if latency_text:
        res["latency"] = lat
    return res


def decide_script(folder, path, peer="10.0.0.1"):
    """Writes decide.lua into folder: wrk POSTs /v1/decide bodies asking about a GET of `path`
    from `peer` (the decision API's request shape). Returns the script's path."""
    body = json.dumps({"method": "GET", "path": path, "peer": peer,
                       "headers": {"User-Agent": "bench", "Accept": "*/*"}})
    script = os.path.join(folder, "decide.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = {json.dumps(body)}\n")
    return script


def h2load_fixed_rate(url, seconds, total_rps, clients=16):
    """Open-loop-ish load: clients × (total_rps / clients) requests per second for `seconds`;
    latency percentiles from h2load's per-request log (microseconds, from send to response)."""
    per_client = max(1, round(total_rps / clients))
    with tempfile.NamedTemporaryFile(prefix="h2load-", suffix=".tsv", delete=False) as f:
        path = f.name
    try:
        out = subprocess.run(["h2load", "--h1", f"-c{clients}", "-t1", f"--rps={per_client}",
                              f"-D{seconds}", f"--log-file={path}", url],
                             capture_output=True, text=True, timeout=seconds + 60).stdout
        with open(path) as f:
            rows = [line.split("\t") for line in f if line.strip()]
    finally:
        os.unlink(path)
    lat_ms = sorted(int(r[2]) / 1000.0 for r in rows if r[1] == "200")
    failed = sum(1 for r in rows if r[1] != "200")
    def pct(p):
        return lat_ms[min(len(lat_ms) - 1, int(p * len(lat_ms)))] if lat_ms else None
    done = re.search(r"finished in ([\d.]+)(\w+), ([\d.]+) req/s", out)
    return {"target_rps": per_client * clients, "rps": float(done.group(3)) if done else len(rows) / seconds,
            "n": len(lat_ms), "failed": failed, "p50_ms": pct(0.50), "p99_ms": pct(0.99)}


def legit_start(url, seconds, mode="keepalive", rate=LEGIT_RATE):
    source = LEGIT_NEWCONN_SOURCE if mode == "newconn" else LEGIT_SOURCE
    return subprocess.Popen([PY, os.path.join(BENCH, "legit.py"), url, str(rate),
                             str(seconds), source, mode], stdout=subprocess.PIPE, text=True)


def legit_finish(popen, timeout=120):
    out, _ = popen.communicate(timeout=timeout)
    return json.loads(out)
