"""The bench's own processes and what it reads about them: start and stop by PID (Proc), CPU
seconds of a process tree from /proc, and HTTP readiness. Shared by the gateway harness, the cold
start rounds, the profiler and the A/B tools."""

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Proc:
    """A process the bench started, its output in workdir/NAME.log (appended: a folder may see the
    same name started again); stop() signals that PID only. started: time.monotonic() just before
    the start, what ready times are measured from."""

    def __init__(self, name, cmd, workdir, env=None, stop_signal=signal.SIGTERM):
        self.name = name
        self.stop_signal = stop_signal
        self.log_path = os.path.join(workdir, name + ".log")
        self.log_file = open(self.log_path, "a")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.started = time.monotonic()
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
                self.popen.wait(timeout=20)
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


def memory_kib(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        pass
    return out


def rss_mib(pid):
    """Resident memory (VmRSS) and its peak (VmHWM) of pid and its descendants, in MiB."""
    rss = hwm = 0
    for p in descendants(pid):
        m = memory_kib(p)
        rss += m.get("VmRSS", 0)
        hwm += m.get("VmHWM", 0)
    return rss / 1024, hwm / 1024


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def status(url, timeout=1.0):
    """The HTTP status url answers with, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def wait_ready(url, proc, seconds=60, any_answer=False):
    """Seconds from proc's start until url answers 2xx (any_answer: any HTTP status), or None when
    proc exits first or seconds pass."""
    deadline = proc.started + seconds
    while time.monotonic() < deadline:
        if not proc.alive():
            return None
        s = status(url, timeout=0.5)
        if s is not None and (any_answer or 200 <= s < 300):
            return time.monotonic() - proc.started
        time.sleep(0.01)
    return None
