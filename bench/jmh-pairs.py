#!/usr/bin/python3
"""Same-run ratios of JMH benchmarks: N rounds, each one JMH invocation with one fork of every
benchmark the regex selects, so each round's ratio compares forks that ran back to back (a fork's
memory layout and the host's drift move a 1,000,000-key figure by ±15%: a ratio of two separate
multi-fork runs carries both spreads). With two jars the rounds alternate A,B / B,A.

usage: bench/jmh-pairs.py --rounds N --jar A.jar [--jar B.jar] --ratio NUM/DEN REGEX [JMH args...]

--ratio names two benchmarks by method name (e.g. bucket4j/sluiceEngine: how many times faster
sluiceEngine is, as time per operation): each round prints that ratio per jar and parameter set,
then the median and min-max over rounds. Each fork: 2 warm-up and 5 measured 1-second iterations
(bench/jmh.sh's settings); JMH arguments after the regex (e.g. -p path=allowed) are passed on.

  bench/jmh-pairs.py --rounds 9 --jar benchmarks/target/benchmarks.jar --ratio bucket4j/sluiceEngine \\
      'RandomKeysBenchmark.(sluiceEngine|bucket4j)$' -p path=allowed
"""
import argparse, json, os, statistics as st, subprocess, sys, tempfile


def one_fork_each(jar, regex, extra):
    """{(method, params): ns/op} of one JMH invocation, one fork per benchmark."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(["java", "-jar", jar, "-f", "1", "-wi", "2", "-i", "5", "-w", "1s", "-r", "1s",
                        "-rf", "json", "-rff", out.name, *extra, regex],
                       check=True, stdout=subprocess.DEVNULL)
        results = json.load(open(out.name))
    return {(b["benchmark"].rsplit(".", 1)[1], " ".join(f"{k}={v}" for k, v in sorted(b.get("params", {}).items()))):
            b["primaryMetric"]["score"] for b in results}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--jar", action="append", required=True)
    ap.add_argument("--ratio", required=True, help="NUM/DEN benchmark method names")
    ap.add_argument("regex")
    args, extra = ap.parse_known_args()
    num, den = args.ratio.split("/")
    if len(args.jar) > 2:
        sys.exit("at most two jars")
    print(f"[jmh-pairs] load average before: {' '.join(open('/proc/loadavg').read().split()[:3])}", flush=True)
    ratios, scores = {}, {}
    for r in range(args.rounds):
        jars = args.jar if r % 2 == 0 else list(reversed(args.jar))
        for jar in jars:
            got = one_fork_each(jar, args.regex, extra)
            for params in sorted({p for _, p in got}):
                a, b = got.get((num, params)), got.get((den, params))
                if a is None or b is None:
                    sys.exit(f"the regex must select {num} and {den} (got {sorted(got)})")
                key = (os.path.basename(jar), params)
                ratios.setdefault(key, []).append(a / b)
                scores.setdefault(key, []).append((a, b))
                print(f"round {r + 1}: {key[0]} {params}: {num} {a:,.1f} ns, {den} {b:,.1f} ns, "
                      f"{num}/{den} {a / b:.3f}", flush=True)
    print(f"[jmh-pairs] load average after: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    for key, rs in sorted(ratios.items()):
        a = st.median(s[0] for s in scores[key])
        b = st.median(s[1] for s in scores[key])
        print(f"{key[0]} {key[1]}: {num}/{den} median {st.median(rs):.3f} (min {min(rs):.3f}, max {max(rs):.3f}, "
              f"{len(rs)} rounds: {' / '.join(f'{x:.2f}' for x in rs)}); medians {num} {a:,.1f} ns, {den} {b:,.1f} ns")


if __name__ == "__main__":
    main()
