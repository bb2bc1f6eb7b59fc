"""The gateway harness's Markdown report (bench/results/gateway.md): tables a, b, b2, b3, R, c and
c2 from the raw results of one run of bench/harness.py."""

import datetime
import os
import subprocess

from stats import median, percentile


def pooled_p99(samples):
    return percentile(samples, 99)


def fmt(x, digits=0):
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}"


def ratio(a, b, digits=2):
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.{digits}f}×"


def render(args, setup, skipped, raw, load_before, load_after, elapsed):
    """The Markdown report of one harness run. setup: the harness's fixed choices (java command,
    limit, legit clients, floor target names, Debian's python); skipped: target -> why."""
    def version(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
            return (p.stdout + p.stderr).strip().splitlines()[0]
        except Exception as e:
            return f"unknown ({e})"

    fl_version = subprocess.run([setup['python'], "-c", "import flask_limiter,flask;print(flask_limiter.__version__, flask.__version__)"],
                                capture_output=True, text=True).stdout.split()
    lines = [
        f"# Gateway benchmark — {datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        f"Machine: {os.cpu_count()} cores; load average before {load_before[0]:.2f} / after "
        f"{load_after[0]:.2f} (1 min) — shared machine, numbers are noisy. "
        f"{version(['java', '-version'])}; {version(['nginx', '-v'])}; "
        f"Flask {fl_version[1] if len(fl_version) > 1 else '?'}, Flask-Limiter "
        f"{fl_version[0] if fl_version else '?'}, gunicorn 1 worker × 16 threads; "
        f"{version(['wrk', '-v'])[:20]}. Sluice and the Netty floor run `{' '.join(setup['java'])}`.",
        "",
        f"Limit on `/limited`: {setup['limit']}/s per client address everywhere (nginx "
        f"`rate={setup['limit']}r/s burst={setup['limit']} nodelay`; Sluice "
        f"`\"{setup['limit']}/second\"` GCRA, burst {setup['limit']}; Flask-Limiter "
        f"`\"{setup['limit']} per second\"` fixed window). Flood: `wrk -t1 -c{args.conns}` for "
        f"{args.flood_seconds} s; legit clients: {setup['legit_rate']:g} req/s each, keep-alive from "
        f"{setup['legit_source']} and a new connection per request from {setup['legit_newconn_source']}. "
        f"Warm-up: {args.warmup_seconds} s per route for Sluice's JVM, 3 s for the others. "
        f"Medians of {args.repeats} interleaved repeats; whole run {elapsed:.0f} s.",
        "",
    ]
    for name, reason in skipped.items():
        lines.append(f"**Skipped: {name}** — {reason}")
        lines.append("")

    flood = raw["flood"]
    med = {n: {k: median([r[k] for r in runs]) for k in
               ("rejections_per_s", "cpu_us_per_rejection", "reject_share", "rps")}
           for n, runs in flood.items()}
    ngx = med.get("nginx limit_req", {}).get("rejections_per_s")
    flm = med.get("Flask-Limiter (memory)", {}).get("rejections_per_s")
    lines += ["## a. Flood on a limited route", "",
              "| limiter | rejections/s | refused share | CPU µs per rejection | vs nginx | vs Flask-Limiter (memory) | upstream hits = admitted |",
              "|---|---:|---:|---:|---:|---:|---|"]
    for n, m in med.items():
        checks = []
        for r in flood[n]:
            limiter = r.get("admitted_by_limiter")
            if n == setup['floor_refuse']:
                checks.append("n/a (admits nothing)")
            elif limiter is not None:
                checks.append("✔" if int(limiter) == r["upstream"] else f"✘ {r['upstream']}≠{int(limiter)}")
            else:
                d = r["upstream"] - r["admitted_seen_by_clients"]
                checks.append(f"{r['upstream']} (clients saw {r['admitted_seen_by_clients']})" if d else "✔")
        lines.append(f"| {n} | {fmt(m['rejections_per_s'])} | {m['reject_share'] * 100:.2f}% | "
                     f"{fmt(m['cpu_us_per_rejection'], 1)} | {ratio(m['rejections_per_s'], ngx)} | "
                     f"{ratio(m['rejections_per_s'], flm, 1)} | {', '.join(checks)} |")
    lines += ["", "Upstream check: ✔ = the Flask app's hit counter grew by exactly what the limiter "
              "admitted (Sluice: `sluice_requests_total{outcome=\"allowed\"}`; nginx: 200s in its access "
              "log; Flask-Limiter: 200s seen by wrk + the legit clients)."
              + (f" {setup['floor_refuse']}: a Netty server answering every request with a constant copy of "
                 "Sluice's 429, no limiting (the floor of a Netty gateway; its legit clients are refused too)."
                 if setup['floor_refuse'] in flood else ""), ""]

    pmed = {n: {k: median([w[k] for w in ws]) for k in ("rps", "p50_ms", "p99_ms")}
            for n, ws in raw["pass"].items()}
    for title, names in (
            ("b. Pass-through on an unlimited cheap route (`/free` of the Flask app, `wrk -t1 -c16`)",
             ("Flask alone (no limiter)", "nginx limit_req", "Sluice (memory)")),
            ("b2. Pass-through to a static upstream (nginx `return 200`, `wrk -t1 -c16`): the proxies' own cost",
             ("static upstream direct", "nginx proxy → static", "Sluice → static", setup['floor_proxy']))):
        direct = pmed.get(names[0], {}).get("rps")
        ngx_rps = pmed.get(names[1], {}).get("rps")
        lines += [f"## {title}", "",
                  "| path | req/s | p50 ms | p99 ms | throughput vs direct | vs nginx |",
                  "|---|---:|---:|---:|---:|---:|"]
        for n in names:
            if n not in pmed:
                continue
            m = pmed[n]
            label = {"Flask alone (no limiter)": "direct (gunicorn)",
                     "nginx limit_req": "nginx proxy"}.get(n, n)
            lines.append(f"| {label} | {fmt(m['rps'])} | {fmt(m['p50_ms'], 2)} | {fmt(m['p99_ms'], 2)} | "
                         f"{ratio(m['rps'], direct)} | {ratio(m['rps'], ngx_rps)} |")
        lines.append("")

    rmed = {n: {k: median([h[k] for h in hs]) for k in ("target_rps", "rps", "p50_ms", "p99_ms")}
            for n, hs in raw["rate"].items()}
    if rmed:
        direct99 = rmed.get("static upstream direct", {}).get("p99_ms")
        direct_runs = raw["rate"].get("static upstream direct", [])
        lines += ["## b3. Fixed rate at half of nginx's max throughput (static upstream, `h2load --h1 -c16 --rps`)", "",
                  "| path | target req/s | achieved req/s | p50 ms | p99 ms | p99 added vs direct ms | added in each repeat ms | failed |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for n, m in rmed.items():
            failed = sum(h["failed"] for h in raw["rate"][n])
            added = m["p99_ms"] - direct99 if direct99 is not None and n != "static upstream direct" else None
            # Same-repeat differences: the direct run and the proxy's ran seconds apart.
            each = [h["p99_ms"] - d["p99_ms"] for h, d in zip(raw["rate"][n], direct_runs)] \
                if n != "static upstream direct" else []
            each_text = " / ".join(f"{x:+.2f}" for x in each) + (f" (median {median(each):+.2f})" if each else "")
            lines.append(f"| {n} | {fmt(m['target_rps'])} | {fmt(m['rps'])} | {fmt(m['p50_ms'], 2)} | "
                         f"{fmt(m['p99_ms'], 2)} | {fmt(added, 2) if added is not None else '—'} | {each_text or '—'} | {failed} |")
        lines.append("")
    lines += redis_section(raw)
    for title, quiet_key, flood_key, samples_key in (
            ("## c. Well-behaved client latency, flood vs no flood", "quiet", "legit_flood", "legit_samples"),
            (f"## c2. Well-behaved client latency, flood vs no flood (a new connection per request, "
             f"from {setup['legit_newconn_source']})", "quiet_newconn", "legit_newconn_flood", "legit_newconn_samples")):
        lines += [title, "",
                  "| limiter | p99 no flood ms | p99 under flood ms | ratio | pooled p99 no flood / flood ms | legit 200s under flood |",
                  "|---|---:|---:|---:|---:|---:|"]
        for n in flood:
            quiet = raw[quiet_key].get(n, [])
            q99 = median([q["p99_ms"] for q in quiet])
            f99 = median([r[flood_key]["p99_ms"] for r in flood[n]])
            pq = pooled_p99([s for q in quiet for s in q["samples_ms"]])
            pf = pooled_p99([s for r in flood[n] for s in r[samples_key]])
            ok = sum(r[flood_key]["statuses"].get("200", 0) for r in flood[n])
            total = sum(r[flood_key]["n"] for r in flood[n])
            lines.append(f"| {n} | {fmt(q99, 2)} | {fmt(f99, 2)} | {ratio(f99, q99, 1)} | "
                         f"{fmt(pq, 2)} / {fmt(pf, 2)} | {ok}/{total} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def round_trip_share(sample, cmd):
    """Share of cmd's calls a client sent (the rest ran inside a script), from the MONITOR sample."""
    client = sample.get("client", {}).get(cmd, 0)
    lua = sample.get("lua", {}).get(cmd, 0)
    return client / (client + lua) if client + lua else 1.0  # unseen: count it as a round trip


def redis_section(raw):
    rows = [(n, runs) for n, runs in raw["flood"].items() if runs and "redis" in runs[0]]
    if not rows:
        return []
    lines = ["## R. Redis commands per decision (flood)", "",
             "| limiter | decisions per flood | store errors (no answer, on_error applied) | round trips per decision | Redis commands per decision (incl. inside scripts) | commands in the flood: calls (µs per call) | background, removed (per s) |",
             "|---|---:|---:|---:|---:|---|---|"]
    for n, runs in rows:
        sample = raw["monitor"].get(n, {})
        trips, cmds_med = [], []
        for r in runs:
            cmds = r["redis"]["commands"]
            trips.append(sum(v["calls"] * round_trip_share(sample, c) for c, v in cmds.items())
                         / max(1, r["decisions"]))
            cmds_med.append(r["redis"]["commands_per_decision"])
        mid = sorted(runs, key=lambda r: r["redis"]["commands_per_decision"])[len(runs) // 2]
        inside = {c for c in mid["redis"]["commands"] if round_trip_share(sample, c) < 0.5}
        detail = ", ".join(f"{c}{' (in script)' if c in inside else ''} {v['calls']:,} ({v['usec_per_call']:.1f})"
                           for c, v in sorted(mid["redis"]["commands"].items(), key=lambda kv: -kv[1]["calls"]))
        bg = ", ".join(f"{c} {v:.1f}" for c, v in sorted(mid["redis"]["background_per_s"].items())) or "none"
        errors = [r.get("store_errors") for r in runs]
        lines.append(f"| {n} | {fmt(median([r['decisions'] for r in runs]))} | "
                     f"{', '.join(fmt(e) for e in errors) if any(e is not None for e in errors) else 'n/a'} | {median(trips):.3f} | "
                     f"{median(cmds_med):.2f} | {detail} | {bg} |")
    lines += ["", "Decisions: Sluice's `sluice_requests_total` (all outcomes) over the flood; Flask-Limiter: "
              "requests wrk and the legit clients completed (wrk drops up to one in-flight request per "
              "connection at the end, so its figure is a slight overestimate). Commands: the redis-server's "
              "`INFO commandstats` before and after the flood, minus the background measured over 2 s of "
              "idle just before it (Sluice's ban-list refresh: one script call every 250 ms, plus what that "
              "script runs), scaled to the flood's duration. Round trips vs commands run inside a script: "
              "from a MONITOR sample of 10 single requests per target (median flood shown in the detail "
              "column; the row's figures are medians over the repeats). Store errors (per repeat, Sluice's "
              "`sluice_store_errors_total`): decisions where Redis did not answer within the store timeout "
              "or the circuit breaker was open; they make no round trip, so round trips per decision fall "
              "below 1 by their share — a loaded host, not extra commands.", ""]
    for n, sample in raw["monitor"].items():
        lines.append(f"MONITOR sample, {n}, {sample.get('requests', '?')} requests: sent by the client "
                     f"{sample.get('client', {})}; inside scripts {sample.get('lua', {})}; "
                     f"background (ban-list refresh) {sample.get('background', {})}.")
    lines.append("")
    return lines
