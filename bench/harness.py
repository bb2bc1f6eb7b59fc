#!/usr/bin/python3
"""Gateway load harness: Sluice against nginx limit_req and Flask-Limiter, in ONE run.

Started by bench/run.sh (which installs the tools and builds the jar). Everything binds
127.0.0.1 on free ports; every process started here is stopped here, by PID.

Scenarios (each repeated, repeats interleaved across targets so slow drift hits all alike):
  a. flood   wrk floods /limited (limit 10/s per client, so ~99% must be refused):
             rejections/s and limiter CPU per rejection (utime+stime of the limiter's
             processes from /proc/<pid>/stat, before/after); the upstream's hit counter must
             equal what the limiter admitted.
  b. pass    wrk on /free (no limit): throughput and p50/p99, direct vs nginx vs Sluice.
  b3. rate   h2load at a FIXED rate of half of nginx's max throughput to the static upstream (as
             measured in b2 of the same repeat), direct vs nginx vs Sluice (and with --floor the
             Netty floor proxy): the latency a proxy adds when it is not saturated (wrk's closed
             loop only shows a saturated proxy).
  c. legit   two well-behaved clients, each 8 req/s from its own address (under its own limit),
             measure their latency while the flood runs (same time as a) and without flood: a
             keep-alive client from 127.0.0.2 and one opening a new connection per request (as
             mobile clients do, `Connection: close`) from 127.0.0.3, running side by side.
  R. redis   for every limiter on Redis (Sluice's Redis store, Flask-Limiter's Redis storage):
             Redis commands per decision during the flood, from the server's INFO commandstats
             read before and after it, divided by the limiter's decisions (Sluice: its
             sluice_requests_total over all outcomes; Flask-Limiter: wrk's + the legit clients'
             requests). A 2 s idle window before each flood measures the background (Sluice's
             ban-list refresh, one script call every 250 ms), which is subtracted and reported
             on its own. A MONITOR sample of a few single requests per target splits commands
             into round trips (sent by the client) and commands run inside a script.
Reported numbers are medians over the repeats; ratios compare peers measured in this run. The
report's tables are written by gateway_report.py.

Subsets (to test a change without the full ~8 min run):
  --only redis,memory   only the targets whose name contains one of these words (case-insensitive;
                        e.g. "redis" = Sluice (redis) + Flask-Limiter (redis)); pass-through runs
                        only for selected targets. With --repeats 1 --flood-seconds 5
                        --warmup-seconds 10 a Redis-only check takes about a minute. A subset run
                        writes bench/results/gateway-subset.md/.json unless --out is given.

The floor (--floor, off by default): the cheapest Netty servers doing the same jobs with no rate
limiting (dev.sluice.benchmarks.floor.NettyFloor in benchmarks/target/benchmarks.jar, --floor-jar):
"Netty floor (429, no limiting)" answers a constant copy of Sluice's 429 to every request (flood
table a; it admits nothing, so no upstream check), "Netty floor proxy → static" is a minimal
keep-alive reverse proxy (tables b2 and b3). Started with the same java command as Sluice's gateway here,
on the gateway's transport and event loops. Below nginx, it shows what no Netty gateway can beat.
--only floor selects both; the b2 reference rows (static upstream direct, nginx proxy → static)
are kept with the floor proxy.

Modules: stack.py starts the targets and reads their counters, loads.py drives wrk, h2load and the
well-behaved clients, procs.py the processes and their CPU, redis_stats.py what Redis ran;
gateway_report.py writes the report; this file holds the scenarios and their order.
"""

import argparse
import json
import os
import tempfile
import time
import urllib.error

import cold
import gateway_report  # the Markdown report of a run (bench/ is this script's folder)
from loads import (LEGIT_NEWCONN_SOURCE, LEGIT_RATE, LEGIT_SOURCE, PY, h2load_fixed_rate, legit_finish,
                   legit_start, wrk)
from procs import cpu_seconds, http_get, log
from redis_stats import redis_commandstats, redis_monitor_sample, stats_delta
from stack import (FLOOR_PROXY, FLOOR_REFUSE, JAVA, LIMIT_PER_SECOND, Stack, app_hits, nginx_statuses,
                   sluice_counts)

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)


def flood_once(stack, name, t, seconds, conns):
    """Scenario a (+ c under flood): one flood run with the legit clients alongside."""
    if t["kind"] == "nginx":
        time.sleep(1.5)  # nginx flushes its log buffer every 1 s: count the quiet run's lines first
    redis_port = t.get("redis")
    if redis_port:
        # Idle window: what Redis runs with no traffic (Sluice's ban-list refresh), per second.
        idle0, idle_t0 = redis_commandstats(redis_port), time.time()
        time.sleep(2.0)
        background = stats_delta(idle0, redis_commandstats(redis_port))
        idle_seconds = time.time() - idle_t0
    app_before = app_hits(t["app_port"])
    limiter_before = sluice_counts(t["admin"]) if t["kind"] == "sluice" else None
    nginx_before = nginx_statuses(stack.nginx_log) if t["kind"] == "nginx" else None
    cpu_before = cpu_seconds(t["cpu"])
    if redis_port:
        redis_before, flood_t0 = redis_commandstats(redis_port), time.time()
    legit = legit_start(t["base"] + "/limited", seconds)
    legit_nc = legit_start(t["base"] + "/limited", seconds, "newconn")
    w = wrk(t["base"] + "/limited", seconds, conns)
    cpu = cpu_seconds(t["cpu"]) - cpu_before
    lg = legit_finish(legit)
    lg_nc = legit_finish(legit_nc)
    if redis_port:
        # read before the 1.5 s settle below, so the background to remove stays small
        redis_flood = stats_delta(redis_before, redis_commandstats(redis_port))
        flood_wall = time.time() - flood_t0
    time.sleep(1.5)  # let in-flight forwards land and nginx flush its log buffer
    upstream = app_hits(t["app_port"]) - app_before
    legit_ok = lg["statuses"].get("200", 0) + lg_nc["statuses"].get("200", 0)
    wrk_ok = w["requests"] - w["non2xx"]
    rejected = w["non2xx"]
    res = {
        "rps": w["rps"], "requests": w["requests"], "rejected": rejected,
        "rejections_per_s": rejected / seconds, "reject_share": rejected / max(1, w["requests"]),
        "cpu_s": cpu, "cpu_us_per_rejection": cpu / max(1, rejected) * 1e6,
        "upstream": upstream, "admitted_seen_by_clients": wrk_ok + legit_ok,
        "legit_flood": {k: lg[k] for k in ("n", "p50_ms", "p99_ms", "max_ms", "statuses")},
        "legit_samples": lg["samples_ms"], "socket_errors": w["socket_errors"],
        "legit_newconn_flood": {k: lg_nc[k] for k in ("n", "p50_ms", "p99_ms", "max_ms", "statuses")},
        "legit_newconn_samples": lg_nc["samples_ms"],
    }
    if t["kind"] == "sluice":
        after = sluice_counts(t["admin"])
        res["admitted_by_limiter"] = after.get("allowed", 0) - limiter_before.get("allowed", 0)
        res["limited_by_limiter"] = after.get("limited", 0) - limiter_before.get("limited", 0)
        res["outcomes"] = {k: after.get(k, 0) - limiter_before.get(k, 0) for k in after}
        res["store_errors"] = res["outcomes"].pop("store_errors", 0)
        res["decisions"] = sum(res["outcomes"].values())
    elif t["kind"] == "nginx":
        after = nginx_statuses(stack.nginx_log)
        res["admitted_by_limiter"] = after.get("200", 0) - nginx_before.get("200", 0)
        res["limited_by_limiter"] = after.get("429", 0) - nginx_before.get("429", 0)
    if redis_port:
        if "decisions" not in res:  # Flask-Limiter: every request it answered was a decision
            res["decisions"] = w["requests"] + lg["n"] + lg_nc["n"]
        per_s = {cmd: v["calls"] / idle_seconds for cmd, v in background.items()}
        net = {}
        for cmd, v in redis_flood.items():
            calls = v["calls"] - per_s.get(cmd, 0) * flood_wall
            if calls >= 0.5:
                net[cmd] = {"calls": round(calls), "usec_per_call": v["usec"] / max(1, v["calls"])}
        res["redis"] = {"flood_commands": redis_flood, "background_per_s": per_s,
                        "flood_wall_s": flood_wall, "commands": net,
                        "commands_per_decision": sum(v["calls"] for v in net.values())
                        / max(1, res["decisions"])}
    return res


def legit_quiet_once(t, seconds):
    """Scenario c without flood: both legit clients side by side, as under the flood."""
    keepalive = legit_start(t["base"] + "/limited", seconds)
    newconn = legit_start(t["base"] + "/limited", seconds, "newconn")
    return legit_finish(keepalive), legit_finish(newconn)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice-jar", required=True)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--flood-seconds", type=int, default=8)
    ap.add_argument("--quiet-seconds", type=int, default=6)
    ap.add_argument("--pass-seconds", type=int, default=6)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--warmup-seconds", type=int, default=20)
    ap.add_argument("--no-redis", action="store_true")
    ap.add_argument("--floor", action="store_true",
                    help="also run the Netty floor (no limiting): flood table a and pass-through b2")
    ap.add_argument("--floor-jar", default=os.environ.get("FLOOR_JAR", os.path.join(ROOT, "benchmarks", "target", "benchmarks.jar")),
                    help="the jar with dev.sluice.benchmarks.floor.NettyFloor (default: $FLOOR_JAR, else benchmarks/target/benchmarks.jar)")
    ap.add_argument("--java-opts", default="",
                    help="options for the java command of Sluice and the Netty floor, after the launcher's serve options "
                         "(a heap size or collector here replaces the launcher's), e.g. -Dsluice.transport=io_uring")
    ap.add_argument("--only", default="",
                    help="comma-separated words: only targets whose name contains one (e.g. redis)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--cold", action="store_true",
                    help="cold start and footprint instead (bench/cold.py): ready time, first seconds, RSS")
    ap.add_argument("--cold-seconds", type=int, default=8)
    ap.add_argument("--warm-seconds", type=int, default=30)
    ap.add_argument("--vs-jar", default=None, help="--cold: a second jar, measured in the same rounds")
    ap.add_argument("--vs-launcher", default=None,
                    help="--cold: the launcher script the --vs-jar variant runs with (default: packaging/bin/sluice)")
    ap.add_argument("--pin", choices=["off", "on", "both"], default="off",
                    help="--cold: the gateway on its own CPU (taskset), the client on the others")
    ap.add_argument("--opts", action="append", default=[],
                    help="--cold: one more variant with SLUICE_JAVA_OPTS=OPTS (repeatable)")
    ap.add_argument("--no-nginx", action="store_true", help="--cold: leave nginx out")
    args = ap.parse_args()
    if args.cold:
        if args.out is None:
            args.out = os.path.join(BENCH, "results", "cold.md")
        return cold.run(args)
    only = [w.strip().lower() for w in args.only.split(",") if w.strip()]
    JAVA.extend(cold.serve_java(args.java_opts))  # the launcher's serve options, then --java-opts
    if args.out is None:
        args.out = os.path.join(BENCH, "results", "gateway-subset.md" if only else "gateway.md")

    started = time.time()
    load_before = os.getloadavg()
    workdir = tempfile.mkdtemp(prefix="sluice-bench-")
    stack = Stack(workdir, args.sluice_jar, with_redis=not args.no_redis,
                  floor_jar=args.floor_jar if args.floor else None)
    raw = {"flood": {}, "quiet": {}, "quiet_newconn": {}, "pass": {}, "rate": {}, "monitor": {}}
    try:
        log(f"starting the stack in {workdir}")
        stack.up()
        if only:
            keep = {n for n in stack.targets if any(w in n.lower() for w in only)}
            if FLOOR_PROXY in keep:  # the floor proxy's row means something only beside these
                keep |= {"static upstream direct", "nginx proxy → static"}
            for name in list(stack.targets):
                if name not in keep:
                    del stack.targets[name]
            log(f"--only {args.only}: {', '.join(stack.targets) or 'nothing'}")
        flood_targets = [n for n in stack.targets if stack.targets[n]["kind"] not in ("none", "static")]
        pass_targets = [n for n in ("Flask alone (no limiter)", "nginx limit_req", "Sluice (memory)",
                                    "static upstream direct", "nginx proxy → static", "Sluice → static",
                                    FLOOR_PROXY)
                        if n in stack.targets]
        log(f"warm-up: {args.warmup_seconds} s per route for the JVM (JIT), 3 s for the others")
        for name, t in stack.targets.items():
            # A freshly started JVM runs interpreted code for many seconds (longer on a loaded
            # machine, where C2 compiler threads get little CPU); a gateway in production is warm.
            jvm = "admin" in t or t.get("jvm")
            wrk(t["base"] + "/free", args.warmup_seconds if jvm else 3, 8)
            if t["kind"] != "static":
                wrk(t["base"] + "/limited", args.warmup_seconds if jvm else 3, 32)
        for name, t in stack.targets.items():
            if t.get("redis"):
                # One-off sample: which commands are round trips and which run inside scripts.
                def requests(limited=t["base"] + "/limited"):
                    for _ in range(10):
                        try:
                            http_get(limited)
                        except urllib.error.HTTPError:
                            pass
                raw["monitor"][name] = dict(redis_monitor_sample(t["redis"], requests), requests=10)
                log(f"  MONITOR {name}: {raw['monitor'][name]}")
        time.sleep(1.2)  # let every limiter's buckets refill
        for rep in range(args.repeats):
            log(f"repeat {rep + 1}/{args.repeats}")
            for name in flood_targets:
                t = stack.targets[name]
                quiet, quiet_nc = legit_quiet_once(t, args.quiet_seconds)
                raw["quiet"].setdefault(name, []).append(quiet)
                raw["quiet_newconn"].setdefault(name, []).append(quiet_nc)
                r = flood_once(stack, name, t, args.flood_seconds, args.conns)
                raw["flood"].setdefault(name, []).append(r)
                log(f"  flood {name}: {r['rejections_per_s']:,.0f} rejections/s, "
                    f"{r['cpu_us_per_rejection']:.1f} µs CPU/rejection, upstream {r['upstream']} "
                    f"(limiter admitted {r.get('admitted_by_limiter', 'n/a')}), legit p99 "
                    f"{r['legit_flood']['p99_ms']:.2f} ms (new connection each: "
                    f"{r['legit_newconn_flood']['p99_ms']:.2f} ms)"
                    + (f", Redis {r['redis']['commands_per_decision']:.2f} commands/decision "
                       f"{ {c: v['calls'] for c, v in r['redis']['commands'].items()} }" if "redis" in r else ""))
                time.sleep(1.2)
            for name in pass_targets:
                w = wrk(stack.targets[name]["base"] + "/free", args.pass_seconds, 16)
                raw["pass"].setdefault(name, []).append(w)
                log(f"  pass {name}: {w['rps']:,.0f} req/s p50 {w['p50_ms']} ms p99 {w['p99_ms']} ms")
            nginx_max = raw["pass"].get("nginx proxy → static", [{}])[-1].get("rps")
            if nginx_max:
                for name in ("static upstream direct", "nginx proxy → static", FLOOR_PROXY, "Sluice → static"):
                    if name in stack.targets:
                        h = h2load_fixed_rate(stack.targets[name]["base"] + "/free", args.pass_seconds,
                                              nginx_max / 2)
                        raw["rate"].setdefault(name, []).append(h)
                        log(f"  rate {name}: {h['rps']:,.0f}/{h['target_rps']:,} req/s p50 {h['p50_ms']} ms "
                            f"p99 {h['p99_ms']} ms ({h['failed']} failed)")
    finally:
        stack.stop_all()

    load_after = os.getloadavg()
    setup = dict(java=JAVA, python=PY, limit=LIMIT_PER_SECOND, legit_rate=LEGIT_RATE, legit_source=LEGIT_SOURCE,
                 legit_newconn_source=LEGIT_NEWCONN_SOURCE, floor_refuse=FLOOR_REFUSE, floor_proxy=FLOOR_PROXY)
    report = gateway_report.render(args, setup, stack.skipped, raw, load_before, load_after, time.time() - started)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(report)
    summary = {name: [{k: v for k, v in r.items() if k not in ("legit_samples", "legit_newconn_samples")}
                      for r in runs]
               for name, runs in raw["flood"].items()}
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump({"flood": summary, "pass": raw["pass"], "rate": raw["rate"],
                   "quiet": {n: [{k: v for k, v in q.items() if k != "samples_ms"} for q in qs]
                             for n, qs in raw["quiet"].items()},
                   "quiet_newconn": {n: [{k: v for k, v in q.items() if k != "samples_ms"} for q in qs]
                                     for n, qs in raw["quiet_newconn"].items()},
                   "monitor": raw["monitor"], "skipped": stack.skipped}, f, indent=1)
    print(report)


if __name__ == "__main__":
    main()
