#!/usr/bin/python3
"""Cold start and footprint: Sluice started the way a user starts it, beside nginx limit_req.

Run through `bench/run.sh --cold` (or `bench/harness.py --cold`). No warm-up: for every round it
starts the gateway with the shipped launcher (packaging/bin/sluice, default JVM options, the jar
given by --sluice-jar / SLUICE_JAR), and measures
  ready     seconds from the launcher's start until the admin /readyz first answers 2xx (polled
            every 10 ms);
  cpu       CPU seconds (utime+stime, all threads) the gateway's processes spent until then, which
            depends less on the machine's load than the wall time; jit = the part of it spent by
            the JVM's compiler threads;
  cold      the flood's rejections/s (wrk -t1 -cCONNS on /limited, limit 10/s per client, so ~all
            refused) in the first --cold-seconds (8) right after ready;
  warm      the same flood again after --warm-seconds (30) more seconds of flood: cold/warm is the
            cold-start ratio;
  rss       the gateway's resident memory at the end of the flood (VmRSS) and its peak (VmHWM).
nginx limit_req (same limit, `return 200` upstream) is measured the same way in each round
(ready = its port answering). Rounds are interleaved across variants. --vs-jar OTHER.jar adds a
variant with that jar (e.g. a baseline) so the comparison is paired; --vs-launcher SCRIPT runs that
variant with another launcher (e.g. the baseline's packaging/bin/sluice). --pin puts the gateway on its
own CPU (taskset -c LAST) and wrk on the others, when the machine has ≥ 2 CPUs and taskset works.
--floor adds the Netty floor that answers a constant 429 (dev.sluice.benchmarks.floor.NettyFloor
--mode refuse, no limiting, the launcher's serve options, ready = its first HTTP answer): the cold/warm
ratio a Netty server on this JVM reaches with no code of Sluice's to compile.
Every process is started here and stopped here by PID, on 127.0.0.1 free ports.
"""
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

from loads import legit_finish, legit_start, wrk
from ports import free_port
from procs import CLK_TCK, Proc, cpu_seconds, rss_mib, wait_ready
from procs import descendants as tree  # the gateway and the JVM its launcher starts
from stack import FLOOR_MAIN, FLOOR_REFUSE, static_nginx_conf

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
LAUNCHER = os.path.join(ROOT, "packaging", "bin", "sluice")
LIMIT = 10
# The Netty default the `sluice` process sets for itself (Main), which the floor gets too.
NETTY_JFR_OFF = "-Dio.netty.jfr.enabled=false"


def serve_java(user_opts=""):
    """The JVM options of a gateway as packaging/bin/sluice gives them to `serve` (its heap=, gc=
    and other= words, read from the launcher), with the launcher's rule for options given after
    them: a heap size or a collector among user_opts replaces the default one. Every JVM the bench
    measures as a gateway (Sluice and the Netty floor) starts with these, so the figures are those
    of the configuration users run, and the floor keeps the gateway's collector, heap and JIT
    settings. Netty's JFR events are off as Main sets them for the `sluice` process."""
    with open(LAUNCHER) as f:
        branch = re.search(r"\n\s*serve \| demo\)\n(.*?)\n\s*;;", f.read(), re.S)
    words = dict(re.findall(r'^\s*(heap|gc|other)="([^"]*)"$', branch.group(1), re.M)) if branch else {}
    if set(words) != {"heap", "gc", "other"}:
        raise SystemExit(f"{LAUNCHER} no longer sets heap=, gc= and other= for serve; "
                         "update bench/cold.py's serve_java()")
    user = user_opts.split()
    if any(re.match(r"-Xm[xs]|-XX:MaxRAMPercentage=|-XX:MaxRAM=", o) for o in user):
        words["heap"] = ""
    if any(re.match(r"-XX:\+Use\w*GC$", o) for o in user):
        words["gc"] = ""
    return " ".join(words[k] for k in ("heap", "gc", "other")).split() + [NETTY_JFR_OFF] + user


def log(msg):
    print(f"[cold {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def cpus():
    return sorted(os.sched_getaffinity(0))


def pin_plan(pin):
    """(gateway_prefix, client_prefix) command prefixes, or empty ones with a reason logged."""
    if not pin:
        return [], []
    mine = cpus()
    if len(mine) < 2 or not shutil.which("taskset"):
        log(f"--pin: not possible here ({len(mine)} CPU(s), taskset {'found' if shutil.which('taskset') else 'missing'}); unpinned")
        return [], []
    gw, rest = str(mine[-1]), ",".join(str(c) for c in mine[:-1])
    return ["taskset", "-c", gw], ["taskset", "-c", rest]


def jit_seconds(pid):
    """CPU seconds of the JVM's compiler threads (C1/C2 CompilerThread*) in the process tree."""
    ticks = 0
    for p in tree(pid):
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            if "Compiler" in name:
                fields = stat.rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def refusals(prefix, url, seconds, conns):
    """Refusals (non-2xx answers) per second of one wrk run started with prefix."""
    w = wrk(url, seconds, conns, prefix=prefix)
    return w["non2xx"] / w["elapsed_s"]


def nginx_conf(d, port, static_port):
    """nginx limit_req on /limited, proxying to the static upstream at static_port (static_nginx:
    its own processes, as Sluice's upstream is, so neither proxy's upstream shares its workers)."""
    for sub in ("logs", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write(f"""worker_processes auto;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
  client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;
  uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
  access_log off;
  keepalive_requests 100000000;
  limit_req_zone $binary_remote_addr zone=flood:10m rate={LIMIT}r/s;
  limit_req_status 429;
  upstream static {{ server 127.0.0.1:{static_port}; keepalive 32; }}
  server {{
    listen 127.0.0.1:{port};
    location /limited {{
      limit_req zone=flood burst={LIMIT} nodelay;
      proxy_pass http://static; proxy_http_version 1.1; proxy_set_header Connection "";
    }}
    location /readyz {{ return 200 "ready\\n"; }}
  }}
}}
""")
    return path


def static_nginx(workdir, workers="auto"):
    """A static upstream (stack.static_nginx_conf) started in workdir/static; returns (Proc, port)."""
    sd = os.path.join(workdir, "static")
    port = free_port()
    run = Proc("static", ["nginx", "-p", sd, "-c", static_nginx_conf(sd, port, workers), "-g", "daemon off;"],
               sd, stop_signal=signal.SIGQUIT)
    if wait_ready(f"http://127.0.0.1:{port}/", run, seconds=10) is None:
        run.stop()
        raise RuntimeError(f"the static nginx did not answer on {port}, see {run.log_path}")
    return run, port


class SideBySide:
    """nginx limit_req and Sluice side by side, both proxying /limited to one static nginx of their
    own: the stack of quiet-latency.py and low-rate.py (G4). stop() stops what it started."""

    def __init__(self, workdir, jar, java_opts=()):
        self.runs = []
        try:
            upstream, self.static_port = static_nginx(workdir)
            self.runs.append(upstream)
            self.nginx_port = free_port()
            self.nginx = Proc("nginx", ["nginx", "-p", workdir, "-c",
                                        nginx_conf(workdir, self.nginx_port, self.static_port),
                                        "-g", "daemon off;"], workdir, stop_signal=signal.SIGQUIT)
            self.runs.append(self.nginx)
            self.sluice_port, admin = free_port(), free_port()
            # Absolute: the processes run in workdir.
            self.sluice = Proc("sluice", ["java", *serve_java(" ".join(java_opts)), "-jar", os.path.abspath(jar),
                                          "serve", "-c", sluice_conf(workdir, self.sluice_port, admin, self.static_port)],
                               workdir)
            self.runs.append(self.sluice)
            if wait_ready(f"http://127.0.0.1:{admin}/readyz", self.sluice) is None:
                raise RuntimeError(f"Sluice did not become ready, see {self.sluice.log_path}")
        except BaseException:
            self.stop()
            raise

    def warm(self, seconds, proxied):
        """JIT warm-up of Sluice: a refusal flood, then (proxied) as long of proxied requests (/free
        has no policy)."""
        subprocess.run(["wrk", "-t1", "-c32", f"-d{seconds}s", f"http://127.0.0.1:{self.sluice_port}/limited"],
                       capture_output=True)
        if proxied:
            subprocess.run(["wrk", "-t1", "-c16", f"-d{seconds}s", f"http://127.0.0.1:{self.sluice_port}/free"],
                           capture_output=True)

    def stop(self):
        for r in reversed(self.runs):
            r.stop()


def legit(port, rate, seconds):
    """The harness's keep-alive legit client (bench/legit.py from 127.0.0.2) on /limited at port,
    at rate requests/s; its JSON result."""
    return legit_finish(legit_start(f"http://127.0.0.1:{port}/limited", seconds, rate=rate), timeout=seconds + 60)


def sluice_conf(d, port, admin, upstream_port):
    path = os.path.join(d, "sluice.yaml")
    with open(path, "w") as f:
        f.write(f"""version: 1
gateway:
  listen: 127.0.0.1:{port}
  upstream: http://127.0.0.1:{upstream_port}
  admin: 127.0.0.1:{admin}
  drain_grace: 0s
store:
  type: memory
headers: ietf
policies:
  - name: flood
    match: {{ paths: ["/limited"] }}
    by: ip
    limits: ["{LIMIT}/second"]
""")
    return path


def one_round(workdir, variant, gw_prefix, client_prefix, args, static_port):
    d = tempfile.mkdtemp(dir=workdir)
    port = free_port()
    if variant["kind"] == "nginx":
        conf = nginx_conf(d, port, static_port)
        proc = Proc("nginx", gw_prefix + ["nginx", "-p", d, "-c", conf, "-g", "daemon off;"], d,
                    stop_signal=signal.SIGQUIT)
        ready_url = f"http://127.0.0.1:{port}/readyz"
    elif variant["kind"] == "floor":
        proc = Proc("floor", gw_prefix + ["java", *variant["java"], "-cp", variant["jar"], FLOOR_MAIN,
                                          "--port", str(port), "--mode", "refuse"], d)
        ready_url = f"http://127.0.0.1:{port}/readyz"  # answered 429, as every request
    else:
        admin = free_port()
        conf = sluice_conf(d, port, admin, static_port)
        env = {"SLUICE_JAR": variant["jar"]}
        env.update(variant.get("env", {}))
        proc = Proc("sluice", gw_prefix + [variant.get("launcher", LAUNCHER), "serve", "-c", conf], d, env=env)
        ready_url = f"http://127.0.0.1:{admin}/readyz"
    try:
        ready = wait_ready(ready_url, proc, any_answer=variant["kind"] == "floor")

        def usage():
            """The gateway's CPU seconds so far, and its compiler threads' share of them."""
            return cpu_seconds([proc.popen.pid]), jit_seconds(proc.popen.pid)

        cpu, jit = usage()
        if ready is None:
            with open(proc.log_path, errors="replace") as f:
                raise RuntimeError(f"{variant['name']} never got ready: {f.read()[-800:]}")
        url = f"http://127.0.0.1:{port}/limited"
        cold = refusals(client_prefix, url, args.cold_seconds, args.conns)
        rss_cold, _ = rss_mib(proc.popen.pid)
        # What the cold window cost the gateway, and how much of it was the JIT's compiler threads:
        # on one CPU every second C2 compiles is a second the event loop does not run.
        cpu_after_cold, jit_after_cold = usage()
        cpu_cold, jit_cold = cpu_after_cold - cpu, jit_after_cold - jit
        refusals(client_prefix, url, args.warm_seconds, args.conns)
        cpu_before_warm, jit_before_warm = usage()
        warm = refusals(client_prefix, url, args.cold_seconds, args.conns)
        cpu_after_warm, jit_after_warm = usage()
        cpu_warm, jit_warm = cpu_after_warm - cpu_before_warm, jit_after_warm - jit_before_warm
        rss, hwm = rss_mib(proc.popen.pid)
        return dict(ready=ready, cpu=cpu, jit=jit, cold=cold, warm=warm, ratio=cold / warm if warm else None,
                    cpu_cold=cpu_cold, jit_cold=jit_cold, cpu_warm=cpu_warm, jit_warm=jit_warm,
                    rss_cold=rss_cold, rss=rss, hwm=hwm)
    finally:
        proc.stop()


def prime(workdir, v, static_port):
    d = tempfile.mkdtemp(dir=workdir)
    port, admin = free_port(), free_port()
    conf = sluice_conf(d, port, admin, static_port)
    env = {"SLUICE_JAR": v["jar"]}
    env.update(v.get("env", {}))
    proc = Proc("prime", [v.get("launcher", LAUNCHER), "serve", "-c", conf], d, env=env)
    try:
        if wait_ready(f"http://127.0.0.1:{admin}/readyz", proc, seconds=120) is None:
            raise RuntimeError(f"{v['name']} never got ready (priming run), see {proc.log_path}")
    finally:
        proc.stop()
    log(f"primed {v['name']}")


def run(args):
    workdir = tempfile.mkdtemp(prefix="sluice-cold-")
    variants = [dict(name="Sluice (memory)", kind="sluice", jar=os.path.abspath(args.sluice_jar))]
    if args.vs_jar:
        other = dict(name=f"Sluice {os.path.basename(args.vs_jar)}", kind="sluice", jar=os.path.abspath(args.vs_jar))
        if getattr(args, "vs_launcher", None):
            other["launcher"] = os.path.abspath(args.vs_launcher)
            other["name"] += f" ({os.path.basename(args.vs_launcher)})"
        variants.append(other)
    for opts in getattr(args, "opts", None) or []:
        # Leading KEY=VALUE words are environment (e.g. SLUICE_CDS=off), the rest SLUICE_JAVA_OPTS.
        words, env = opts.split(), {}
        while words and re.match(r"^[A-Z_]+=", words[0]):
            k, v = words.pop(0).split("=", 1)
            env[k] = v
        env["SLUICE_JAVA_OPTS"] = " ".join(words)
        variants.append(dict(name=f"Sluice {opts}", kind="sluice", jar=os.path.abspath(args.sluice_jar), env=env))
    # Class-data sharing archives go to a folder of this run; one untimed start and stop per
    # variant first leaves the archive a user has after the first start.
    for v in variants:
        if v["kind"] == "sluice":
            v.setdefault("env", {}).setdefault("SLUICE_CDS_DIR", os.path.join(workdir, "cds-" + str(len(v["name"]))
                                                                             + "-" + str(abs(hash(v["name"])))))
    if getattr(args, "floor", False):
        if not os.path.isfile(args.floor_jar):
            raise SystemExit(f"--floor: {args.floor_jar} is missing (mvn -pl benchmarks -am package)")
        variants.append(dict(name=FLOOR_REFUSE, kind="floor", jar=os.path.abspath(args.floor_jar), java=serve_java()))
    if not getattr(args, "no_nginx", False):
        variants.append(dict(name="nginx limit_req", kind="nginx"))
    results = {v["name"]: [] for v in variants}
    pins = [False, True] if args.pin == "both" else [args.pin == "on"]
    out = {}
    # A static upstream for Sluice (nginx return 200), shared by the rounds, on the client's CPUs.
    static, static_port = static_nginx(workdir, workers="1")
    try:
        for v in variants:
            if v["kind"] == "sluice":
                prime(workdir, v, static_port)
        for pinned in pins:
            gw_prefix, client_prefix = pin_plan(pinned)
            label = "pinned" if gw_prefix else "unpinned"
            results = {v["name"]: [] for v in variants}
            for r in range(args.repeats):
                for v in variants:
                    res = one_round(workdir, v, gw_prefix, client_prefix, args, static_port)
                    results[v["name"]].append(res)
                    log(f"{label} round {r + 1} {v['name']}: ready {res['ready']:.2f} s (CPU {res['cpu']:.2f} s, "
                        f"JIT {res['jit']:.2f} s), cold {res['cold']:,.0f}/s (CPU {res['cpu_cold']:.2f} s, "
                        f"JIT {res['jit_cold']:.2f} s), "
                        f"warm {res['warm']:,.0f}/s (×{res['ratio']:.2f}), RSS {res['rss']:.0f} MiB (peak {res['hwm']:.0f})")
            out[label] = results
    finally:
        static.stop()
    report(args, out)
    return 0


def report(args, out):
    lines = [f"# Cold start (bench/run.sh --cold), {time.strftime('%Y-%m-%d %H:%M')}", "",
             f"Rounds: {args.repeats}; flood wrk -t1 -c{args.conns} on /limited; cold = first "
             f"{args.cold_seconds} s after ready, warm = {args.cold_seconds} s after {args.warm_seconds} s more "
             f"flood. Medians. Load average {os.getloadavg()[0]:.1f}.", ""]
    for label, results in out.items():
        lines += [f"## {label}", "",
                  "| target | ready, s | CPU to ready, s | of it JIT, s | cold rejections/s | warm rejections/s | cold/warm | CPU in the cold window, s | of it JIT, s | CPU in the warm window, s | of it JIT, s | RSS after the cold flood, MiB | RSS at end, MiB | peak RSS, MiB |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name, rs in results.items():
            def med(k):
                xs = [x[k] for x in rs if x.get(k) is not None]
                return statistics.median(xs) if xs else float("nan")
            lines.append(f"| {name} | {med('ready'):.2f} | {med('cpu'):.2f} | {med('jit'):.2f} | {med('cold'):,.0f} | {med('warm'):,.0f} | "
                         f"{med('ratio'):.2f} | {med('cpu_cold'):.2f} | {med('jit_cold'):.2f} | {med('cpu_warm'):.2f} | "
                         f"{med('jit_warm'):.2f} | {med('rss_cold'):.0f} | {med('rss'):.0f} | {med('hwm'):.0f} |")
        lines.append("")
        # Paired: each round's figure over the first variant's figure of the same round.
        names = [n for n in results if not n.startswith("nginx")]
        if len(names) > 1:
            lines += [f"Paired with {names[0]} (median over rounds of the per-round ratio):", "",
                      "| target | ready | CPU to ready | cold rejections/s | cold/warm | RSS at end |",
                      "|---|---:|---:|---:|---:|---:|"]
            base = results[names[0]]
            for name in names[1:]:
                def ratio(k):
                    xs = [a[k] / b[k] for a, b in zip(results[name], base)
                          if a.get(k) is not None and b.get(k)]
                    return f"{statistics.median(xs):.2f}×" if xs else "–"
                lines.append(f"| {name} | {ratio('ready')} | {ratio('cpu')} | {ratio('cold')} | "
                             f"{ratio('ratio')} | {ratio('rss')} |")
            lines.append("")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
        with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
            json.dump(out, f, indent=1)
