#!/usr/bin/env python3
"""Generates a realistic Sluice access log (SPEC §10 access_log lines) for `sluice replay` / `sluice tune`.

A week of an API behind examples/tuning/sluice.yaml: ordinary clients with log-normal activity and a
day/night cycle, a few heavy API-key clients, a partner (exempt.ips) sending batches, one
credential-stuffing address on /auth/login and one scraper on /api/search. Seeded: the same
arguments always give the same file.

    python3 examples/tuning/generate_log.py --lines 200000 --out access.jsonl
    python3 examples/tuning/generate_log.py --lines 1000000 --days 7 | gzip > week.jsonl.gz
"""
import argparse
import hashlib
import math
import random
import sys
from datetime import datetime, timedelta, timezone


def short_hash(secret: str) -> str:
    # The core's identity value for secrets: the first 16 hex digits of SHA-256.
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--days", type=float, default=7)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--out", default="-")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    start = datetime(2026, 11, 23, tzinfo=timezone.utc)
    span = args.days * 86400.0

    clients = []
    for i in range(3000):
        ip = f"198.51.{i // 250}.{i % 250 + 1}"
        key = f"key-{i:04d}" if i % 3 == 0 else None
        clients.append((ip, key, rnd.lognormvariate(0, 1.2)))
    for i in range(5):  # heavy API-key clients
        clients.append((f"203.0.113.{i + 10}", f"heavy-{i}", 60.0))
    total_weight = sum(w for _, _, w in clients)
    routes = [("GET", "/api/search", 0.45), ("GET", "/api/items/42", 0.35), ("POST", "/auth/login", 0.05),
              ("GET", "/api/reports/daily", 0.05), ("GET", "/", 0.10)]

    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    # Times: a non-homogeneous Poisson process with a daily cycle, generated in order.
    rate = args.lines / span / 0.7  # about 77% survive the thinning below
    t = 0.0
    written = 0
    while written < args.lines:
        t += rnd.expovariate(rate)
        if t >= span:
            t = 0.0  # rare: start the week again (a second pass) until --lines are written
            start += timedelta(seconds=span)
        hour = (t / 3600.0) % 24
        if rnd.random() > 0.55 + 0.45 * math.sin(math.pi * (hour - 6) / 12) ** 2:
            continue  # thinning: quieter at night
        when = start + timedelta(seconds=t)
        r = rnd.random()
        if r < 0.004:  # partner batch (exempt.ips)
            ip, key, (method, path) = "10.20.0.5", None, ("GET", "/api/items/42")
        elif r < 0.007:  # credential stuffing
            ip, key, (method, path) = "192.0.2.66", None, ("POST", "/auth/login")
        elif r < 0.012:  # scraper
            ip, key, (method, path) = "192.0.2.77", None, ("GET", "/api/search")
        else:
            x = rnd.random() * total_weight
            for ip, key, w in clients:
                x -= w
                if x <= 0:
                    break
            y = rnd.random()
            for method, path, share in routes:
                y -= share
                if y <= 0:
                    break
        ids = {"ip": ip}
        if key is not None and path.startswith("/api/"):
            ids["api_key"] = short_hash(key)
        id_json = ",".join(f'"{k}":"{v}"' for k, v in ids.items())
        outcome = "exempt" if ip == "10.20.0.5" else "allowed"
        out.write(f'{{"time":"{when.strftime("%Y-%m-%dT%H:%M:%S.")}{when.microsecond // 1000:03d}Z","via":"gateway",'
                  f'"method":"{method}","path":"{path}","client_ip":"{ip}","identities":{{{id_json}}},'
                  f'"policies":[],"outcome":"{outcome}","policy":null,"status":200,"upstream_ms":12.000}}\n')
        written += 1
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
