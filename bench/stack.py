"""The targets of the gateway harness, started side by side on free 127.0.0.1 ports: the Flask app
under gunicorn (alone and with Flask-Limiter), nginx limit_req, a static nginx upstream, Sluice's
gateway on the memory and Redis stores and, with --floor, the Netty floor; and what each target
counts (the app's hits, Sluice's metrics, nginx's access log)."""

import json
import os
import re
import signal
import socket
import time

from ports import free_port
from procs import Proc, http_get, log, wait_ready

BENCH = os.path.dirname(os.path.abspath(__file__))
GUNICORN = "/usr/bin/gunicorn"
LIMIT_PER_SECOND = 10
# The java command of every JVM target: the gateway and the Netty floor start alike (the floor's
# figures only bound the gateway's when both run with the same JVM flags), with the options the
# launcher gives `serve` (harness.main() adds them: cold.serve_java).
JAVA = ["java"]
FLOOR_MAIN = "dev.sluice.benchmarks.floor.NettyFloor"
FLOOR_REFUSE = "Netty floor (429, no limiting)"
FLOOR_PROXY = "Netty floor proxy → static"


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


def limit_nginx_conf(d, port, static_proxy_port, app_port, static_port):
    """nginx limit_req in folder d (its nginx.conf): on port, /limited limited and proxied to the
    Flask app, every other path proxied unlimited; on static_proxy_port, a plain proxy to the static
    upstream (table b2). Returns the access log's path (status and URI of /limited's requests)."""
    os.makedirs(os.path.join(d, "logs"), exist_ok=True)
    log = os.path.join(d, "logs", "access.log")
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(f"""
worker_processes auto;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
  client_body_temp_path {d}/tmp_body;
  proxy_temp_path {d}/tmp_proxy;
  fastcgi_temp_path {d}/tmp_fcgi;
  uwsgi_temp_path {d}/tmp_uwsgi;
  scgi_temp_path {d}/tmp_scgi;
  log_format st '$status $request_uri';
  access_log {log} st buffer=64k flush=1s;
  limit_req_zone $binary_remote_addr zone=flood:10m rate={LIMIT_PER_SECOND}r/s;
  limit_req_status 429;
  # No per-connection request cap (nginx closes a keep-alive connection after 1,000 requests by
  # default, Sluice never): h2load does not reconnect, and wrk would pay reconnects only here.
  keepalive_requests 100000000;
  upstream app {{ server 127.0.0.1:{app_port}; keepalive 32; keepalive_requests 100000000; }}
  upstream static {{ server 127.0.0.1:{static_port}; keepalive 32; keepalive_requests 100000000; }}
  server {{
    listen 127.0.0.1:{static_proxy_port};
    access_log off;
    location / {{ proxy_pass http://static; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
  server {{
    listen 127.0.0.1:{port};
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
    return log


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
        if wait_ready(f"http://127.0.0.1:{port}/__stats", p, any_answer=True) is None:
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
        self.nginx_log = limit_nginx_conf(ngx_dir, ngx_port, ngx_static_port, app_port, static_port)
        ngx = self.start("nginx", ["nginx", "-p", ngx_dir, "-c", os.path.join(ngx_dir, "nginx.conf"),
                                   "-g", "daemon off;"], stop_signal=signal.SIGQUIT)
        static_dir = os.path.join(self.workdir, "static")
        static = self.start("static", ["nginx", "-p", static_dir, "-c", static_nginx_conf(static_dir, static_port),
                                       "-g", "daemon off;"], stop_signal=signal.SIGQUIT)
        if wait_ready(f"http://127.0.0.1:{ngx_port}/free", ngx, any_answer=True) is None:
            raise RuntimeError(f"nginx did not start: {ngx.tail()}")
        if wait_ready(f"http://127.0.0.1:{static_port}/", static, any_answer=True) is None:
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
        if wait_ready(f"http://127.0.0.1:{port}/free", p, seconds=60, any_answer=True) is not None:
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
