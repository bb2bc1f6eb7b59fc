"""Loopback ports for the benchmarks' servers, chosen free at run time."""
import random
import socket


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A loopback port free right now, from below the kernel's ephemeral range: wrk's, h2load's
    and the gateways' own outgoing connections take their local ports from that range and could
    take one found free there a moment earlier (testkit's FreePort does the same for the tests)."""
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
