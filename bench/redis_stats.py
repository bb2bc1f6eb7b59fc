"""What a redis-server ran, read over a plain socket (RESP): INFO commandstats before and after a
flood, and a MONITOR sample that tells round trips from commands run inside a script."""

import re
import socket
import time


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
