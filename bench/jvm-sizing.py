#!/usr/bin/env python3
"""JVM options for the gateway, measured: throughput, pauses and memory per option set.

    bench/jvm-sizing.py [--repeats 2] [--seconds 8] [--keys-seconds 15]

For each option set (interleaved, `--repeats` rounds, so a busy machine hurts all alike) it starts
`java OPTIONS -jar cli/target/sluice.jar serve` in front of bench/app.py (gunicorn, 1 worker), and
runs with wrk, 32 connections, loopback only:
  flood   GET /limited, ~all refused with 429 (the cost of saying no);
  pass    GET /free, forwarded to the app (the cost of saying yes);
  keys    GET /k with a fresh X-API-Key on every request under a per-key policy (and a per-IP one
          that refuses them, so the app's speed does not matter): the memory store fills with new
          identities, as under a key-spraying attack (heap pressure).
and reads the gateway's peak RSS (VmHWM) and RSS at the end, and GC pauses from -Xlog:gc.
Prints one Markdown table (medians over the rounds). Every process it starts is stopped by PID.
"""
import argparse, os, re, shutil, statistics, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loads import wrk  # noqa: E402
from ports import free_port  # noqa: E402
from procs import Proc, http_get, rss_mib, wait_ready  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONNS = 32  # wrk -t1 -c32 in every phase
CONFIGS = {
    "JVM defaults (G1, max heap 1/4 of RAM)": [],
    "G1 -Xmx512m": ["-XX:+UseG1GC", "-Xmx512m"],
    "Serial -Xmx512m": ["-XX:+UseSerialGC", "-Xmx512m"],
    "Parallel -Xmx512m": ["-XX:+UseParallelGC", "-Xmx512m"],
    "G1 -Xss512k -Xmx512m": ["-XX:+UseG1GC", "-Xmx512m", "-Xss512k"],
    "G1 -Xms64m -Xmx512m MaxGCPauseMillis=50": ["-XX:+UseG1GC", "-Xms64m", "-Xmx512m", "-XX:MaxGCPauseMillis=50"],
    "Serial -Xmx256m (sidecar)": ["-XX:+UseSerialGC", "-Xmx256m"],
    "Serial -Xmx128m (sidecar)": ["-XX:+UseSerialGC", "-Xmx128m"],
}
KEYS_LUA = """
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/k", { ["X-API-Key"] = "k" .. math.random(1, 1e9) .. "-" .. n })
end
"""


def gc_pauses(log):
    with open(log) as f:
        ms = [float(x) for x in re.findall(r"Pause.* ([\d.]+)ms$", f.read(), re.M)]
    return (max(ms) if ms else 0.0, sum(ms))


def run_one(name, opts, app_port, work, a):
    port, admin = free_port(), free_port()
    cfg = os.path.join(work, "sluice.yaml")
    with open(cfg, "w") as f:
        f.write(f"""version: 1
gateway: {{ listen: "127.0.0.1:{port}", upstream: "http://127.0.0.1:{app_port}", admin: "127.0.0.1:{admin}" }}
clients: {{ api_key: {{ header: X-API-Key }} }}
policies:
  - name: flood
    match: {{ paths: ["/limited"] }}
    by: ip
    limits: ["10/second"]
  - name: keys
    match: {{ paths: ["/k"] }}
    by: api_key
    limits: ["5/minute"]
  - name: wall
    match: {{ paths: ["/k"] }}
    by: ip
    limits: ["1/hour"]
""")
    gclog = os.path.join(work, "gc.log")
    cmd = ["java", *opts, f"-Xlog:gc:file={gclog}", "-jar", os.path.join(ROOT, "cli/target/sluice.jar"),
           "serve", "-c", cfg]
    p = Proc("sluice", cmd, work)
    try:
        base = f"http://127.0.0.1:{port}"
        if wait_ready(base + "/free", p) is None:
            raise SystemExit(f"{name}: sluice did not start, see {p.log_path}")
        wrk(base + "/limited", a.seconds, CONNS)  # warm-up (JIT)
        wrk(base + "/free", a.seconds, CONNS)
        flood = wrk(base + "/limited", a.seconds, CONNS)
        passing = wrk(base + "/free", a.seconds, CONNS)
        idle_rss, _ = rss_mib(p.pid)
        open(gclog, "w").close()  # pauses of the key phase only
        lua = os.path.join(work, "keys.lua")
        with open(lua, "w") as f:
            f.write(KEYS_LUA)
        keys = wrk(base + "/k", a.keys_seconds, CONNS, script=lua)
        max_pause, total_pause = gc_pauses(gclog)
        _, metrics = http_get(f"http://127.0.0.1:{admin}/metrics", timeout=5)
        stored = float(re.search(r"^sluice_store_keys\S* ([\d.eE+]+)$", metrics, re.M).group(1))
        rss_end, hwm = rss_mib(p.pid)
        return {"flood": flood["rps"], "pass": passing["rps"], "keys": keys["rps"],
                "keys_n": stored, "rss_warm": idle_rss,
                "rss_end": rss_end, "hwm": hwm,
                "max_pause": max_pause, "total_pause": total_pause, "alive": p.alive()}
    finally:
        p.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--keys-seconds", type=int, default=15)
    ap.add_argument("--only", default="", help="comma-separated substrings of the option-set names")
    a = ap.parse_args()
    configs = {k: v for k, v in CONFIGS.items() if any(o in k for o in a.only.split(","))}
    work = tempfile.mkdtemp(prefix="jvm-sizing-")
    app_port = free_port()
    app = Proc("gunicorn", ["/usr/bin/gunicorn", "-w", "1", "--threads", "16", "-b", f"127.0.0.1:{app_port}",
                            "--chdir", os.path.join(ROOT, "bench"), "app:app"], work)
    results = {k: [] for k in configs}
    try:
        if wait_ready(f"http://127.0.0.1:{app_port}/free", app) is None:
            raise SystemExit(f"gunicorn did not start, see {app.log_path}")
        for r in range(a.repeats):
            for name, opts in configs.items():
                res = run_one(name, opts, app_port, work, a)
                print(f"[round {r + 1}] {name}: {res}", file=sys.stderr, flush=True)
                results[name].append(res)
    finally:
        app.stop()
    shutil.rmtree(work, ignore_errors=True)  # kept when a run failed: its logs are named above
    med = lambda name, key: statistics.median(x[key] for x in results[name])
    print(f"\n{a.repeats} rounds, medians; {a.seconds} s per wrk run, key phase {a.keys_seconds} s; "
          f"{os.cpu_count()} CPUs, {subprocess.run(['java', '-version'], capture_output=True, text=True).stderr.splitlines()[0]}\n")
    print("| JVM options | flood 429/s | pass-through req/s | key-spray req/s | keys stored | RSS warm MiB | RSS end MiB | peak RSS MiB | max GC pause ms (keys) | GC pause total ms (keys) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in configs:
        print(f"| {name} | {med(name, 'flood'):,.0f} | {med(name, 'pass'):,.0f} | {med(name, 'keys'):,.0f} | "
              f"{med(name, 'keys_n'):,.0f} | {med(name, 'rss_warm'):.0f} | {med(name, 'rss_end'):.0f} | "
              f"{med(name, 'hwm'):.0f} | {med(name, 'max_pause'):.1f} | {med(name, 'total_pause'):.0f} |")


if __name__ == "__main__":
    main()
