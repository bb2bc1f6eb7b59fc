"""Fixtures that start real processes: `sluice serve` (decision API only) and gunicorn.

The Sluice jar is $SLUICE_JAR, else cli/target/sluice.jar (built by `mvn verify`/`package`);
it is started through the launcher every installation uses (packaging/bin/sluice). Every
process listens on 127.0.0.1 on a port chosen free at runtime and is stopped by its PID.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parents[2]

POLICY = """\
version: 1
gateway:
  admin: 127.0.0.1:{admin}
decision:
  listen: 127.0.0.1:{port}
policies:
  - name: per-user
    match: {{ paths: ["/limited"] }}
    by: [user, ip]
    limits: ["3/hour"]
  - name: login-failures
    match: {{ methods: [POST], paths: ["/login"] }}
    by: body:username
    count: {{ status: [401] }}
    limits: ["3/hour"]
  - name: login-ip
    match: {{ methods: [POST], paths: ["/login"] }}
    by: ip
    limits: ["100000/hour"]
  - name: exempt-route
    match: {{ paths: ["/exempt", "/exempt-control"] }}
    by: global
    limits: ["1/hour"]
  - name: slow
    match: {{ paths: ["/slow"] }}
    by: header:X-Test-Run
    concurrency: 2
    limits: ["100000/hour"]
  - name: exact
    match: {{ paths: ["/exact"] }}
    by: header:X-Test-Run
    limits: ["20/hour"]
  - name: boom
    match: {{ paths: ["/boom"] }}
    by: header:X-Test-Run
    concurrency: 1
    count: {{ status: ["5xx"] }}
    limits: ["2/hour"]
"""


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A loopback port free right now, from below the kernel's ephemeral range: the connections
    the tests' processes open take their local ports from that range and could take one found
    free there a moment earlier (testkit's FreePort does the same for the Java tests)."""
    high = _ephemeral_low() - 1
    if high - 20000 >= 1000:
        for _ in range(200):
            port = random.randint(20000, high)
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {seconds}s:\n{log.read_text()}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(15)


@pytest.fixture(scope="session")
def sluice_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    jar = Path(os.environ.get("SLUICE_JAR", REPO / "cli" / "target" / "sluice.jar"))
    if not jar.is_file():
        raise RuntimeError(f"{jar} does not exist: build it first (mvn -pl cli -am package)")
    folder = tmp_path_factory.mktemp("sluice")
    port, admin = free_port(), free_port()
    policy = folder / "sluice.yaml"
    policy.write_text(POLICY.format(port=port, admin=admin))
    log = folder / "serve.log"
    env = dict(os.environ, SLUICE_JAR=str(jar))
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(REPO / "packaging" / "bin" / "sluice"), "serve", "-c", str(policy)],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder,
        )
    try:
        wait_port(port, proc, log, 120)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


class Gunicorn:
    """A real gunicorn serving tests/testapp.py; `hits(run)` reads what the views recorded."""

    def __init__(self, folder: Path, args: List[str], env: Dict[str, str]) -> None:
        self.port = free_port()
        self.hits_file = folder / "hits.txt"
        self.log = folder / "gunicorn.log"
        full_env = dict(os.environ, HITS_FILE=str(self.hits_file), **env)
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--chdir", str(TESTS),
                 "-b", f"127.0.0.1:{self.port}", "--graceful-timeout", "2", *args, "testapp:app"],
                stdout=out, stderr=subprocess.STDOUT, env=full_env,
            )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn not ready:\n{self.log.read_text()}")
                time.sleep(0.1)

    def hits(self, run: str, path: Optional[str] = None) -> List[List[float]]:
        if not self.hits_file.exists():
            return []
        rows = []
        for line in self.hits_file.read_text().splitlines():
            r, p, start, end = line.split()
            if r == run and (path is None or p == path):
                rows.append([float(start), float(end)])
        return rows

    def stop(self) -> None:
        stop(self.proc)


WORKERS = {
    "sync": ["-k", "sync", "-w", "4", "--preload"],
    "gthread": ["-k", "gthread", "-w", "2", "--threads", "4"],
}


@pytest.fixture(scope="module", params=sorted(WORKERS))
def app_server(request: pytest.FixtureRequest, sluice_url: str,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    folder = tmp_path_factory.mktemp(f"gunicorn-{request.param}")
    server = Gunicorn(folder, WORKERS[request.param],
                      {"SLUICE_URL": sluice_url, "SLUICE_WARMUP": "1"})
    try:
        yield server
    finally:
        server.stop()


class Stalled:
    """A TCP server that accepts connections and never answers: a decision service slower than
    any timeout."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.conns: List[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        self.closed = True
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.fixture
def stalled() -> Iterator[Stalled]:
    server = Stalled()
    try:
        yield server
    finally:
        server.close()
