#!/usr/bin/env python3
"""report.py RESULTS.jsonl: the tables of 'make bench' from precopy-sim
--sweep output (one JSON object per run; the oracle's figures on each)."""
import json
import sys
from collections import defaultdict

POLICIES = ["xen-default", "qemu", "engine", "engine-abort", "oracle"]


def pct(xs, q):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def fmt(x, spec="{:.3f}"):
    return "-" if x != x else spec.format(x)


def main(path):
    runs = [json.loads(l) for l in open(path) if l.strip()]
    by = defaultdict(list)
    for r in runs:
        by[r["policy"]].append(r)
    workloads = sorted({r["workload"] for r in runs})
    seeds = len({r["seed"] for r in runs})
    cases = len(by["oracle"])
    feas = sum(1 for r in by["oracle"] if r["oracle_feasible"])
    print(f"{len(workloads)} workloads x {len({r['sla_ms'] for r in runs})} SLAs"
          f" x {seeds} seeds = {cases} cases; the oracle finds {feas} feasible,"
          f" {cases - feas} infeasible")
    print("pages/oracle: pages sent / the oracle's fewest pages meeting the SLA,"
          " on the feasible cases where the policy met it")
    print("dt/min-dt: downtime / the oracle's minimum downtime, on infeasible"
          " cases the policy completed")
    print()
    hdr = ("policy", "SLA hits", "(feasible)", "pages/oracle",
           "p95", "dt/min-dt", "p95", "aborts ok", "false aborts")
    print("{:<13} {:>9} {:>10} {:>12} {:>6} {:>9} {:>6} {:>9} {:>12}".format(*hdr))
    print("{:<13} {:>9} {:>10} {:>12} {:>6} {:>9} {:>6} {:>9} {:>12}".format(
        "", "feasible", "", "median", "", "infeas.", "", "infeas.", "feasible"))
    summary = {}
    for p in POLICIES:
        rs = by.get(p, [])
        f = [r for r in rs if r["oracle_feasible"]]
        inf = [r for r in rs if not r["oracle_feasible"]]
        hits = sum(1 for r in f if r["verdict"] in ("met", "feasible"))
        ratio = [r["pages_sent"] / r["oracle_pages"] for r in f
                 if r["verdict"] in ("met", "feasible")]
        dt = [r["downtime_ms"] / r["oracle_min_downtime_ms"] for r in inf
              if r["verdict"] != "abort"]
        ab_ok = sum(1 for r in inf if r["verdict"] == "abort")
        ab_bad = sum(1 for r in f if r["verdict"] == "abort")
        hit = hits / len(f) if f else float("nan")
        summary[p] = (hit, pct(ratio, .5))
        aborting = p == "engine-abort"
        print("{:<13} {:>8}% {:>10} {:>12} {:>6} {:>9} {:>6} {:>9} {:>12}".format(
            p, fmt(100 * hit, "{:.1f}"), f"{hits}/{len(f)}",
            fmt(pct(ratio, .5)), fmt(pct(ratio, .95), "{:.2f}"),
            fmt(pct(dt, .5), "{:.2f}"), fmt(pct(dt, .95), "{:.2f}"),
            f"{ab_ok}/{len(inf)}" if aborting else "-",
            f"{ab_bad}/{len(f)}" if aborting else "-"))
    print()
    print("SLA hits on feasible cases / pages / oracle (median), per workload:")
    print("{:<10}".format("workload") + "".join(
        "{:>18}".format(p) for p in POLICIES[:4]))
    for w in workloads:
        line = "{:<10}".format(w)
        for p in POLICIES[:4]:
            f = [r for r in by[p] if r["workload"] == w and r["oracle_feasible"]]
            if not f:
                line += "{:>18}".format("(none feasible)")
                continue
            hits = sum(1 for r in f if r["verdict"] == "met")
            ratio = [r["pages_sent"] / r["oracle_pages"] for r in f
                     if r["verdict"] == "met"]
            line += "{:>18}".format("{:5.1f}% {:>6}".format(
                100 * hits / len(f), fmt(pct(ratio, .5), "{:.2f}x")))
        print(line)
    print()
    # Pages against each other policy on the cases both met the SLA: the
    # medians above are each over a policy's own hits.
    key = lambda r: (r["workload"], r["sla_ms"], r["seed"])
    eng = {key(r): r for r in by["engine"] if r["verdict"] == "met"}
    for p in ("xen-default", "qemu"):
        both = [(eng[key(r)], r) for r in by[p]
                if r["verdict"] == "met" and key(r) in eng]
        if not both:
            continue
        tot = sum(e["pages_sent"] for e, _ in both) / \
            sum(o["pages_sent"] for _, o in both)
        fewer = sum(1 for e, o in both if e["pages_sent"] < o["pages_sent"])
        more = sum(1 for e, o in both if e["pages_sent"] > o["pages_sent"])
        print(f"engine vs {p} on the {len(both)} cases both met: "
              f"{tot:.3f}x the pages in all; fewer in {fewer}, more in "
              f"{more}, the same in {len(both) - fewer - more}")
    print()
    e, x, q = summary["engine"], summary["xen-default"], summary["qemu"]
    checks = [
        (">= 98% SLA hits", e[0] >= .98),
        ("<= 1.10x the oracle's pages", e[1] <= 1.10),
        ("more hits than xen-default", e[0] > x[0]),
        ("more hits than qemu", e[0] > q[0]),
        ("fewer pages than xen-default", e[1] < x[1]),
        ("fewer pages than qemu", e[1] < q[1]),
    ]
    print("targets (engine): " + "; ".join(
        f"{name}: {'yes' if ok else 'NO'}" for name, ok in checks))


if __name__ == "__main__":
    main(sys.argv[1])
