#!/usr/bin/python3
"""Where a gateway's CPU goes: a JFR execution-sample profile of Sluice under one load.

    bench/run.sh --profile flood      # wrk -c32 on a 10/s-limited route: ~all answered 429
    bench/run.sh --profile pass       # wrk -c16 on an unlimited route to a static nginx upstream
    bench/run.sh --profile flood --seconds 20 --top 30

Sluice is started with the shipped launcher (packaging/bin/sluice, default options, no class-data
sharing so the archive step does not run) plus a flight recording of execution samples every
millisecond; it gets --warmup-seconds (20) of the same load first, then JFR records --seconds (15)
of it. The report (bench/results/profile-<load>.md, and on stdout) gives, over all samples of the
gateway's threads:
  self        share of samples whose top frame is the method (where the CPU is spent)
  inclusive   share of samples with the method anywhere on the stack (what it costs in all)
and the same "inclusive" grouped by package, so Sluice's own code can be told from Netty's and the
JDK's. JFR samples only threads running Java code (time in the kernel's socket calls shows as the
native method that made it), so the shares are of the JVM's Java CPU, not of its system time.
Every process binds 127.0.0.1 and is stopped by PID at the end.
"""
import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

from cold import sluice_conf
from loads import wrk
from procs import Proc, cpu_seconds, descendants, log, wait_ready
from ports import free_port

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
LAUNCHER = os.path.join(ROOT, "packaging", "bin", "sluice")

# One event, sampled every millisecond: the default "profile" settings sample every 10-20 ms,
# too few samples for a 15 s run to rank methods below 1%.
JFC = """<?xml version="1.0" encoding="UTF-8"?>
<configuration version="2.0" label="sluice-bench">
  <event name="jdk.ExecutionSample"><setting name="enabled">true</setting><setting name="period">1 ms</setting></event>
</configuration>
"""

LOADS = {
    # route, wrk connections, what is measured
    "flood": ("/limited", 32, "flood on a 10/s-limited route (~all refused with 429)"),
    "pass": ("/free", 16, "pass-through on an unlimited route to a static nginx upstream"),
}


def start_static_upstream(workdir, procs):
    port = free_port()
    d = os.path.join(workdir, "nginx")
    os.makedirs(os.path.join(d, "logs"), exist_ok=True)
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(f"""worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {d}/b; proxy_temp_path {d}/p; fastcgi_temp_path {d}/f;
  uwsgi_temp_path {d}/u; scgi_temp_path {d}/s;
  keepalive_requests 100000000;
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok\\n"; }} }}
}}
""")
    p = Proc("nginx", ["nginx", "-p", d, "-c", os.path.join(d, "nginx.conf"), "-g", "daemon off;"], workdir)
    procs.append(p)
    if wait_ready(f"http://127.0.0.1:{port}/", p, seconds=20, any_answer=True) is None:
        raise RuntimeError(f"nginx did not start: {p.tail()}")
    return port


def frames_of(event):
    return [f["method"]["type"]["name"].replace("/", ".") + "." + f["method"]["name"]
            for f in event["values"]["stackTrace"]["frames"]]


def package_of(method):
    cls = method.rsplit(".", 1)[0].split("$", 1)[0]
    return cls.rsplit(".", 1)[0] if "." in cls else cls


def report(jfr_file, top, title):
    # jfr print shows 5 frames per stack unless told otherwise: inclusive shares need them all.
    out = subprocess.run(["jfr", "print", "--json", "--stack-depth", "96", "--events", "jdk.ExecutionSample", jfr_file],
                         capture_output=True, text=True, check=True).stdout
    events = json.loads(out)["recording"]["events"]
    self_count, incl, pkg = collections.Counter(), collections.Counter(), collections.Counter()
    for e in events:
        frames = frames_of(e)
        if not frames:
            continue
        self_count[frames[0]] += 1
        pkg[package_of(frames[0])] += 1
        for m in set(frames):
            incl[m] += 1
    n = sum(self_count.values()) or 1
    own = [(m, c) for m, c in incl.most_common() if m.startswith("dev.sluice.")][:top]
    lines = [f"# Profile: {title}", "", f"{n:,} execution samples (JFR, 1 ms) of the gateway's Java threads.", "",
             "## Self by package (where the CPU is spent)", "", "| share | package |", "|---:|---|"]
    lines += [f"| {c / n:.1%} | `{p}` |" for p, c in pkg.most_common(top)]
    lines += ["", "## Self by method (top frame)", "", "| share | method |", "|---:|---|"]
    lines += [f"| {c / n:.1%} | `{m}` |" for m, c in self_count.most_common(top)]
    lines += ["", "## Sluice's methods, inclusive (the method and what it calls)", "", "| share | method |", "|---:|---|"]
    lines += [f"| {c / n:.1%} | `{m}` |" for m, c in own]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("load", choices=sorted(LOADS))
    ap.add_argument("--sluice-jar", required=True)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--warmup-seconds", type=int, default=20)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--out", default=os.path.join(BENCH, "results"))
    ap.add_argument("--keep-jfr", metavar="FILE", help="also copy the flight recording there (for `jfr print`)")
    args = ap.parse_args()
    route, conns, title = LOADS[args.load]

    workdir = tempfile.mkdtemp(prefix="sluice-profile-")
    procs = []
    try:
        upstream = start_static_upstream(workdir, procs)
        port, admin = free_port(), free_port()
        cfg = sluice_conf(workdir, port, admin, upstream)  # the cold bench's policy: 10/s per ip on /limited
        jfc = os.path.join(workdir, "samples.jfc")
        with open(jfc, "w") as f:
            f.write(JFC)
        jfr_file = os.path.join(workdir, "gateway.jfr")
        env = {"SLUICE_JAR": os.path.abspath(args.sluice_jar), "SLUICE_CDS": "off",
               "SLUICE_JAVA_OPTS": "-XX:FlightRecorderOptions=stackdepth=96"}
        gw = Proc("sluice", [LAUNCHER, "serve", "-c", cfg], workdir, env=env)
        procs.append(gw)
        if wait_ready(f"http://127.0.0.1:{port}/free", gw, seconds=60, any_answer=True) is None:
            raise RuntimeError(f"sluice did not start: {gw.tail()}")
        url = f"http://127.0.0.1:{port}{route}"
        log(f"warm-up: {args.warmup_seconds} s of the {args.load} load")
        wrk(url, args.warmup_seconds, conns)
        jvm = max(p for p in _java_pids(gw.pid))
        subprocess.run(["jcmd", str(jvm), "JFR.start", "name=bench", f"settings={jfc}"],
                       check=True, capture_output=True)
        cpu0 = cpu_seconds([gw.pid])
        w = wrk(url, args.seconds, conns)
        cpu = cpu_seconds([gw.pid]) - cpu0
        subprocess.run(["jcmd", str(jvm), "JFR.stop", "name=bench", f"filename={jfr_file}"],
                       check=True, capture_output=True)
        if args.keep_jfr:
            shutil.copyfile(jfr_file, args.keep_jfr)
        log(f"{w['rps']:,.0f} req/s, {cpu / max(w['requests'], 1) * 1e6:.1f} µs CPU per request")
        text = report(jfr_file, args.top, f"{title}, {args.seconds} s, wrk -t1 -c{conns}")
        text += (f"\nLoad: {w['rps']:,.0f} req/s ({w['non2xx']:,} of {w['requests']:,} non-2xx); gateway CPU "
                 f"{cpu / max(w['requests'], 1) * 1e6:.1f} µs per request; load average "
                 f"{open('/proc/loadavg').read().split()[0]} at the end. Jar: {os.path.basename(args.sluice_jar)}.\n")
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, f"profile-{args.load}.md")
        with open(path, "w") as f:
            f.write(text)
        print(text)
        log(f"wrote {path}")
    finally:
        for p in reversed(procs):
            p.stop()


def _java_pids(launcher_pid):
    """The JVM the launcher started (it execs java, or runs it as its child)."""
    pids = []
    for p in descendants(launcher_pid):
        try:
            with open(f"/proc/{p}/comm") as f:
                if f.read().strip() == "java":
                    pids.append(p)
        except OSError:
            pass
    if not pids:
        raise RuntimeError("no java process under the launcher")
    return pids


if __name__ == "__main__":
    sys.exit(main())
