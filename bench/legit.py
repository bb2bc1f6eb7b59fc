"""A well-behaved client: RATE requests/s for SECONDS from its own loopback address.

    legit.py URL RATE SECONDS SOURCE_IP [keepalive|newconn]  ->  one JSON line:
    {"n": .., "p50_ms": .., "p99_ms": .., "max_ms": .., "statuses": {"200": ..}, "samples_ms": [..]}

keepalive (default): one HTTP/1.1 connection kept open (reconnects when the server closes).
newconn: a new TCP connection for every request, closed after the response (`Connection: close`),
as mobile clients and many scripts do; its latency includes the connection set-up.
Sends on a fixed schedule, so a slow answer does not lower the offered rate (no coordinated
omission beyond one request in flight).
"""

import http.client
import json
import sys
import time
from urllib.parse import urlsplit

from stats import percentile  # this script runs from bench/, beside stats.py


def main():
    url, rate, seconds, source = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    mode = sys.argv[5] if len(sys.argv) > 5 else "keepalive"
    if mode not in ("keepalive", "newconn"):
        sys.exit(f"legit.py: mode {mode!r} is not known; expected keepalive or newconn")
    newconn = mode == "newconn"
    parts = urlsplit(url)
    target = parts.path or "/"

    def connect():
        return http.client.HTTPConnection(parts.hostname, parts.port, timeout=10,
                                          source_address=(source, 0))

    conn = None if newconn else connect()
    interval = 1.0 / rate
    start = time.perf_counter()
    samples, statuses = [], {}
    k = 0
    while True:
        due = start + k * interval
        if due - start >= seconds:
            break
        now = time.perf_counter()
        if due > now:
            time.sleep(due - now)
        # Measured from the scheduled send time: a late send is latency the client saw.
        t0 = due
        try:
            if newconn:
                conn = connect()  # connects on request(): inside the measured time
                conn.request("GET", target, headers={"Connection": "close"})
            else:
                conn.request("GET", target)
            resp = conn.getresponse()
            resp.read()
            status = str(resp.status)
            if newconn:
                conn.close()
            elif resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = connect()
        except (OSError, http.client.HTTPException):
            status = "error"
            conn.close()
            if not newconn:
                conn = connect()
        samples.append((time.perf_counter() - t0) * 1000.0)
        statuses[status] = statuses.get(status, 0) + 1
        k += 1
    samples.sort()
    print(json.dumps({"n": len(samples), "p50_ms": percentile(samples, 50), "p99_ms": percentile(samples, 99),
                      "max_ms": samples[-1] if samples else None, "statuses": statuses,
                      "samples_ms": [round(s, 3) for s in samples]}))


if __name__ == "__main__":
    main()
