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
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import gateway_report  # the Markdown report of a run (bench/ is this script's folder)
from ports import free_port

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
PY = "/usr/bin/python3"  # Debian's python has Flask and Flask-Limiter
GUNICORN = "/usr/bin/gunicorn"
LIMIT_PER_SECOND = 10
LEGIT_SOURCE = "127.0.0.2"
LEGIT_NEWCONN_SOURCE = "127.0.0.3"
LEGIT_RATE = 8.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ------------------------------------------------------------------ processes


def static_nginx_conf(d, port, workers="auto"):
    """The config of a static upstream (nginx `return 200 "ok"` on port) in folder d; its path. The
    upstream always runs as an nginx of its own: inside a proxying nginx, that nginx's proxied
    requests were answered by its own, already awake workers (which no other proxy's upstream
    does) and its CPU was counted as the proxy's."""
    os.makedirs(os.path.join(d, "logs"), exist_ok=True)
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write(f"""worker_processes {workers}; pid {d}/nginx.pid; error_log {d}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{ access_log off; client_body_temp_path {d}/t; proxy_temp_path {d}/t; fastcgi_temp_path {d}/t;
  uwsgi_temp_path {d}/t; scgi_temp_path {d}/t; keepalive_requests 100000000;
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok\\n"; }} }} }}
""")
    return path




class Proc:
    """A process this harness started; stop() signals that PID only."""

    def __init__(self, name, cmd, workdir, env=None, stop_signal=signal.SIGTERM):
        self.name = name
        self.stop_signal = stop_signal
        self.log_path = os.path.join(workdir, name + ".log")
        self.log_file = open(self.log_path, "w")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.popen = subprocess.Popen(cmd, stdout=self.log_file, stderr=subprocess.STDOUT,
                                      env=full_env, cwd=workdir)
        self.pid = self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def tail(self, n=5):
        self.log_file.flush()
        with open(self.log_path, errors="replace") as f:
            return " | ".join(line.strip() for line in f.readlines()[-n:])

    def stop(self):
        if self.alive():
            os.kill(self.pid, self.stop_signal)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait()
        self.log_file.close()


def descendants(pid):
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return found


def cpu_seconds(pids):
    """utime+stime of the processes and all their descendants (threads included)."""
    ticks = 0
    for root in pids:
        for p in descendants(root):
            try:
                with open(f"/proc/{p}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
            except OSError:
                pass
    return ticks / CLK_TCK


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def wait_http(url, proc, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc is not None and not proc.alive():
            return False
        try:
            http_get(url, timeout=2)
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.2)
    return False


# ------------------------------------------------------------------ load tools

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * UNITS[m.group(2)]


def wrk(url, seconds, conns, threads=1):
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
    return {
        "requests": total,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": to_ms(lat["50"]) if "50" in lat else None,
        "p99_ms": to_ms(lat["99"]) if "99" in lat else None,
        "socket_errors": errors.group(1).strip() if errors else "",
    }


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


def app_hits(app_port):
    return json.loads(http_get(f"http://127.0.0.1:{app_port}/__stats")[1])["limited"]


def sluice_counts(admin_port, policy="flood"):
    body = http_get(f"http://127.0.0.1:{admin_port}/metrics")[1]
    counts = {}
    for line in body.splitlines():
        if line.startswith("sluice_store_errors_total"):
            counts["store_errors"] = counts.get("store_errors", 0) + float(line.rsplit(" ", 1)[1])
        if line.startswith("sluice_requests_total{") and f'policy="{policy}"' in line:
            outcome = re.search(r'outcome="([^"]+)"', line).group(1)
            counts[outcome] = counts.get(outcome, 0) + float(line.rsplit(" ", 1)[1])
    return counts


def nginx_statuses(log_path):
    counts = {}
    try:
        with open(log_path) as f:
            for line in f:
                status, path = line.split()[:2]
                if path.startswith("/limited"):
                    counts[status] = counts.get(status, 0) + 1
    except FileNotFoundError:
        pass
    return counts


def redis_info(port, section):
    """One INFO section of the redis-server, as text (RESP over a plain socket)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(f"INFO {section}\r\n".encode())
        data = b""
        while b"\r\n" not in data:
            data += c.recv(65536)
        header, rest = data.split(b"\r\n", 1)
        size = int(header[1:])
        while len(rest) < size + 2:
            rest += c.recv(65536)
        return rest[:size].decode()


def redis_commandstats(port):
    """Calls and total µs per command since the server started (or its last RESETSTAT)."""
    stats = {}
    for m in re.finditer(r"^cmdstat_([^:]+):calls=(\d+),usec=(\d+)", redis_info(port, "commandstats"), re.M):
        stats[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return stats


def stats_delta(before, after):
    out = {}
    for cmd, (calls, usec) in after.items():
        c0, u0 = before.get(cmd, (0, 0))
        if calls - c0 > 0:
            out[cmd] = {"calls": calls - c0, "usec": usec - u0}
    return out


SCRIPT_COMMANDS = ("eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro")


def redis_monitor_sample(port, make_requests):
    """MONITOR while make_requests() runs: per command, how many calls came from a client (round
    trips) and how many ran inside a script ("lua"); Sluice's ban-list refreshes (a script call
    with op ban_list, plus what it runs) are counted apart as background."""
    counts = {"client": {}, "lua": {}, "background": {}}
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(b"MONITOR\r\n")
        buf = c.recv(64)
        make_requests()
        time.sleep(0.5)
        # Read what arrived, up to a deadline: the ban-list refresh keeps the stream busy every 250 ms.
        deadline = time.time() + 0.5
        while time.time() < deadline:
            c.settimeout(max(0.01, deadline - time.time()))
            try:
                chunk = c.recv(1 << 16)
            except socket.timeout:
                break
            if not chunk:
                break
            buf += chunk
    in_background = False
    for line in buf.decode(errors="replace").splitlines():
        m = re.match(r'^\+?[\d.]+ \[\d+ ([^\]]+)\] "([^"]+)"(.*)$', line)
        if not m:
            continue
        source, cmd, rest = m.group(1), m.group(2).lower(), m.group(3)
        if source != "lua":
            in_background = cmd in SCRIPT_COMMANDS and '"ban_list"' in rest
            if cmd == "monitor":
                continue
        bucket = "background" if in_background else ("lua" if source == "lua" else "client")
        counts[bucket][cmd] = counts[bucket].get(cmd, 0) + 1
    return counts


# ------------------------------------------------------------------ the stack


# The java command of every JVM target: the gateway and the Netty floor start alike (the floor's
# figures only bound the gateway's when both run with the same JVM flags), with the options the
# launcher gives `serve` (main() adds them: cold.serve_java).
JAVA = ["java"]
FLOOR_MAIN = "dev.sluice.benchmarks.floor.NettyFloor"
FLOOR_REFUSE = "Netty floor (429, no limiting)"
FLOOR_PROXY = "Netty floor proxy → static"


class Stack:
    def __init__(self, workdir, sluice_jar, with_redis, floor_jar=None):
        self.workdir = workdir
        self.sluice_jar = os.path.abspath(sluice_jar)  # processes run in the work dir
        self.floor_jar = os.path.abspath(floor_jar) if floor_jar else None
        self.procs = []
        self.targets = {}  # name -> dict(url_base, cpu_pids, admitted_fn, upstream_port)
        self.skipped = {}  # name -> reason
        self.with_redis = with_redis

    def start(self, name, cmd, env=None, stop_signal=signal.SIGTERM):
        p = Proc(name, cmd, self.workdir, env, stop_signal)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in reversed(self.procs):
            try:
                p.stop()
            except Exception as e:  # keep stopping the others
                log(f"stopping {p.name} (pid {p.pid}) failed: {e}")

    def gunicorn(self, name, env):
        port = free_port()
        # One worker keeps the hit counter exact; threads as the example app is run.
        p = self.start(name, [GUNICORN, "--workers", "1", "--threads", "16", "--worker-class",
                              "gthread", "--bind", f"127.0.0.1:{port}", "--chdir", BENCH, "app:app"],
                       env=env)
        if not wait_http(f"http://127.0.0.1:{port}/__stats", p):
            raise RuntimeError(f"{name} did not start: {p.tail()}")
        return p, port

    def up(self):
        redis_port = None
        if self.with_redis:
            redis_port = free_port()
            r = self.start("redis", ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                                     "--save", "", "--appendonly", "no"])
            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", redis_port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            self.redis = r
            self.redis_port = redis_port

        app, app_port = self.gunicorn("flask", {"BENCH_LIMIT": f"{LIMIT_PER_SECOND} per second"})
        self.app_port = app_port
        self.targets["Flask alone (no limiter)"] = dict(
            base=f"http://127.0.0.1:{app_port}", cpu=[app.pid], app_port=app_port, kind="none")

        fl, fl_port = self.gunicorn("flask-limiter-memory", {
            "BENCH_FLASK_LIMITER": "memory://", "BENCH_LIMIT": f"{LIMIT_PER_SECOND} per second"})
        self.targets["Flask-Limiter (memory)"] = dict(
            base=f"http://127.0.0.1:{fl_port}", cpu=[fl.pid], app_port=fl_port, kind="flask")
        if redis_port:
            flr, flr_port = self.gunicorn("flask-limiter-redis", {
                "BENCH_FLASK_LIMITER": f"redis://127.0.0.1:{redis_port}",
                "BENCH_LIMIT": f"{LIMIT_PER_SECOND} per second"})
            self.targets["Flask-Limiter (redis)"] = dict(
                base=f"http://127.0.0.1:{flr_port}", cpu=[flr.pid, self.redis.pid],
                app_port=flr_port, kind="flask", redis=redis_port)

        # nginx: same limit (rate=10r/s, burst 10 served at once, like Sluice's default burst = N).
        ngx_port, static_port, ngx_static_port = free_port(), free_port(), free_port()
        ngx_dir = os.path.join(self.workdir, "nginx")
        os.makedirs(os.path.join(ngx_dir, "logs"), exist_ok=True)
        self.nginx_log = os.path.join(ngx_dir, "logs", "access.log")
        with open(os.path.join(ngx_dir, "nginx.conf"), "w") as f:
            f.write(f"""
worker_processes auto;
pid {ngx_dir}/nginx.pid;
error_log {ngx_dir}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
  client_body_temp_path {ngx_dir}/tmp_body;
  proxy_temp_path {ngx_dir}/tmp_proxy;
  fastcgi_temp_path {ngx_dir}/tmp_fcgi;
  uwsgi_temp_path {ngx_dir}/tmp_uwsgi;
  scgi_temp_path {ngx_dir}/tmp_scgi;
  log_format st '$status $request_uri';
  access_log {self.nginx_log} st buffer=64k flush=1s;
  limit_req_zone $binary_remote_addr zone=flood:10m rate={LIMIT_PER_SECOND}r/s;
  limit_req_status 429;
  # No per-connection request cap (nginx closes a keep-alive connection after 1,000 requests by
  # default, Sluice never): h2load does not reconnect, and wrk would pay reconnects only here.
  keepalive_requests 100000000;
  upstream app {{ server 127.0.0.1:{app_port}; keepalive 32; keepalive_requests 100000000; }}
  upstream static {{ server 127.0.0.1:{static_port}; keepalive 32; keepalive_requests 100000000; }}
  server {{
    listen 127.0.0.1:{ngx_static_port};
    access_log off;
    location / {{ proxy_pass http://static; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
  server {{
    listen 127.0.0.1:{ngx_port};
    location /limited {{
      limit_req zone=flood burst={LIMIT_PER_SECOND} nodelay;
      proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
    }}
    location / {{
      access_log off;
      proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
    }}
  }}
}}
""")
        ngx = self.start("nginx", ["nginx", "-p", ngx_dir, "-c", os.path.join(ngx_dir, "nginx.conf"),
                                   "-g", "daemon off;"], stop_signal=signal.SIGQUIT)
        static_dir = os.path.join(self.workdir, "static")
        static = self.start("static", ["nginx", "-p", static_dir, "-c", static_nginx_conf(static_dir, static_port),
                                       "-g", "daemon off;"], stop_signal=signal.SIGQUIT)
        if not wait_http(f"http://127.0.0.1:{ngx_port}/free", ngx):
            raise RuntimeError(f"nginx did not start: {ngx.tail()}")
        if not wait_http(f"http://127.0.0.1:{static_port}/", static):
            raise RuntimeError(f"the static nginx did not start: {static.tail()}")
        self.targets["nginx limit_req"] = dict(
            base=f"http://127.0.0.1:{ngx_port}", cpu=[ngx.pid], app_port=app_port, kind="nginx")
        # A static upstream (nginx `return 200`) shows the proxies' own cost, which the
        # one-worker Flask app hides.
        self.targets["static upstream direct"] = dict(
            base=f"http://127.0.0.1:{static_port}", cpu=[static.pid], kind="static")
        self.targets["nginx proxy → static"] = dict(
            base=f"http://127.0.0.1:{ngx_static_port}", cpu=[ngx.pid], kind="static")
        self.static_port = static_port

        self.sluice("Sluice (memory)", "store:\n  type: memory\n")
        self.sluice("Sluice → static", "store:\n  type: memory\n", upstream_port=static_port,
                    kind="static")
        if redis_port:
            self.sluice("Sluice (redis)",
                        f"store:\n  type: redis\n  url: redis://127.0.0.1:{redis_port}\n",
                        extra_cpu=[self.redis.pid], redis=redis_port)
        else:
            self.skipped["Sluice (redis)"] = "redis-server not started (--no-redis)"
        if self.floor_jar:
            self.floor(FLOOR_REFUSE, ["--mode", "refuse"], kind="floor")
            self.floor(FLOOR_PROXY, ["--mode", "proxy", "--upstream", str(static_port)], kind="static")

    def ready_or_skip(self, name, p, port):
        """Whether p answers on port; if not, p is stopped and name recorded as skipped, with why."""
        if wait_http(f"http://127.0.0.1:{port}/free", p, seconds=60):
            return True
        reason = f"did not start: {p.tail(3)}"
        p.stop()
        self.procs.remove(p)
        self.skipped[name] = reason
        log(f"SKIP {name}: {reason}")
        return False

    def floor(self, name, mode_args, kind):
        """A Netty floor target (see the module doc): no admin port, no limiter."""
        port = free_port()
        slug = "floor-" + mode_args[1]
        p = self.start(slug, [*JAVA, "-cp", self.floor_jar, FLOOR_MAIN, "--port", str(port), *mode_args])
        if not self.ready_or_skip(name, p, port):
            return
        # app_port: the Flask app's hit counter is read around a flood like for the others (the
        # floor forwards nothing, so it stays put); jvm: warmed up like the gateway.
        self.targets[name] = dict(base=f"http://127.0.0.1:{port}", cpu=[p.pid], app_port=self.app_port,
                                  kind=kind, jvm=True)

    def sluice(self, name, store_yaml, extra_cpu=(), upstream_port=None, kind="sluice", redis=None):
        port, admin = free_port(), free_port()
        slug = name.split("(")[1].rstrip(")") if "(" in name else "static"
        cfg = os.path.join(self.workdir, f"sluice-{slug}.yaml")
        with open(cfg, "w") as f:
            f.write(f"""version: 1
gateway:
  listen: 127.0.0.1:{port}
  upstream: http://127.0.0.1:{upstream_port or self.app_port}
  admin: 127.0.0.1:{admin}
{store_yaml}headers: ietf
policies:
  - name: flood
    match: {{ paths: ["/limited"] }}
    by: ip
    limits: ["{LIMIT_PER_SECOND}/second"]
""")
        p = self.start(f"sluice-{slug}", [*JAVA, "-jar", self.sluice_jar, "serve", "-c", cfg])
        if not self.ready_or_skip(name, p, port):
            return
        self.targets[name] = dict(base=f"http://127.0.0.1:{port}", cpu=[p.pid, *extra_cpu],
                                  app_port=self.app_port, kind=kind, admin=admin, redis=redis)


# ------------------------------------------------------------------ scenarios


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
    import cold  # here, not at the top: cold imports this module
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
