#!/usr/bin/env python3
"""report.py RESULTS.jsonl: the tables of 'make bench' from precopy-sim
--sweep output (one JSON object per run; the oracle's figures on each).

A case is a workload at a guest size and a link; a run is a case at an
SLA and a seed, for one policy."""
import json
import sys
from collections import defaultdict

# engine-bound, engine-abort-bound: the engine given the harness's limits
# (the oracle's horizon: 30 rounds, 5 x the guest) as its own.
POLICIES = ["xen-default", "qemu", "engine", "engine-abort", "engine-bound",
            "engine-abort-bound", "oracle"]


def pct(xs, q):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def fmt(x, spec="{:.3f}"):
    return "-" if x != x else spec.format(x)


def gib(r):
    m = r.get("guest_mib", r["guest_pages"] / 256)
    return f"{m / 1024:g}G"


def gbe(r):
    return f"{r['link_mbit'] / 1000:g}G"


def case(r):
    """The case of a run: workload, guest size, link."""
    return f"{r['workload']} {gib(r)} {gbe(r)}"


def met(r):
    return r["verdict"] in ("met", "feasible")


def stats(rs):
    """A policy's figures over runs rs."""
    f = [r for r in rs if r["oracle_feasible"]]
    inf = [r for r in rs if not r["oracle_feasible"]]
    hits = sum(1 for r in f if met(r))
    return {
        "f": f, "inf": inf, "hits": hits,
        "hit": hits / len(f) if f else float("nan"),
        "ratio": [r["pages_sent"] / r["oracle_pages"] for r in f if met(r)],
        "dt": [r["downtime_ms"] / r["oracle_min_downtime_ms"] for r in inf
               if r["verdict"] != "abort"],
        "ab_ok": sum(1 for r in inf if r["verdict"] == "abort"),
        "ab_bad": sum(1 for r in f if r["verdict"] == "abort"),
    }


def main_table(by):
    hdr = ("policy", "SLA hits", "(feasible)", "pages/oracle",
           "p95", "dt/min-dt", "p95", "aborts ok", "false aborts")
    print("{:<18} {:>9} {:>10} {:>12} {:>6} {:>9} {:>6} {:>9} {:>12}".format(*hdr))
    print("{:<18} {:>9} {:>10} {:>12} {:>6} {:>9} {:>6} {:>9} {:>12}".format(
        "", "feasible", "", "median", "", "infeas.", "", "infeas.", "feasible"))
    summary = {}
    for p in POLICIES:
        s = stats(by.get(p, []))
        summary[p] = s
        aborting = p.startswith("engine-abort")
        print("{:<18} {:>8}% {:>10} {:>12} {:>6} {:>9} {:>6} {:>9} {:>12}".format(
            p, fmt(100 * s["hit"], "{:.1f}"), f"{s['hits']}/{len(s['f'])}",
            fmt(pct(s["ratio"], .5)), fmt(pct(s["ratio"], .95), "{:.2f}"),
            fmt(pct(s["dt"], .5), "{:.2f}"), fmt(pct(s["dt"], .95), "{:.2f}"),
            f"{s['ab_ok']}/{len(s['inf'])}" if aborting else "-",
            f"{s['ab_bad']}/{len(s['f'])}" if aborting else "-"))
    return summary


def breakdown(by, title, keyf, keys, width=10):
    """SLA hits and median pages/oracle of each policy, by keyf."""
    print(title)
    print("{:<{w}}".format("", w=width) + "".join(
        "{:>20}".format(p) for p in POLICIES[:4]))
    for k in keys:
        line = "{:<{w}}".format(k, w=width)
        for p in POLICIES[:4]:
            s = stats([r for r in by[p] if keyf(r) == k])
            if not s["f"]:
                line += "{:>20}".format("(none feasible)")
                continue
            line += "{:>20}".format("{:5.1f}% {:>4} {:>6}".format(
                100 * s["hit"], len(s["f"]), fmt(pct(s["ratio"], .5),
                                                 "{:.2f}x")))
        print(line)
    print()


def main(path):
    runs = [json.loads(l) for l in open(path) if l.strip()]
    by = defaultdict(list)
    for r in runs:
        by[r["policy"]].append(r)
    cases = sorted({case(r) for r in runs})
    n = len(by["oracle"])
    feas = sum(1 for r in by["oracle"] if r["oracle_feasible"])
    print(f"{len(cases)} cases (workload x guest size x link) x "
          f"{len({r['sla_ms'] for r in runs})} SLAs x their seeds = {n} runs "
          f"a policy; the oracle finds {feas} feasible, {n - feas} infeasible")
    print("pages/oracle: pages sent / the oracle's fewest pages meeting the SLA,"
          " on the feasible cases where the policy met it")
    print("dt/min-dt: downtime / the oracle's minimum downtime, on infeasible"
          " cases the policy completed")
    print()
    summary = main_table(by)
    print()
    width = max(len(c) for c in cases) + 1
    breakdown(by, "SLA hits on feasible cases (how many) / pages / oracle "
              "(median), per case:", case, cases, width)
    sizes = sorted({gib(r) for r in runs}, key=lambda s: float(s[:-1]))
    breakdown(by, "The same, per guest size:", gib, sizes)
    links = sorted({gbe(r) for r in runs}, key=lambda s: float(s[:-1]))
    breakdown(by, "The same, per link:", gbe, links)

    # Pages against each other policy on the cases both met the SLA: the
    # medians above are each over a policy's own hits.
    key = lambda r: (case(r), r["sla_ms"], r["seed"])
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
        (">= 98% SLA hits", e["hit"] >= .98),
        ("<= 1.10x the oracle's pages", pct(e["ratio"], .5) <= 1.10),
        ("more hits than xen-default", e["hit"] > x["hit"]),
        ("more hits than qemu", e["hit"] > q["hit"]),
        ("fewer pages than xen-default",
         pct(e["ratio"], .5) < pct(x["ratio"], .5)),
        ("fewer pages than qemu", pct(e["ratio"], .5) < pct(q["ratio"], .5)),
    ]
    print("targets (engine): " + "; ".join(
        f"{name}: {'yes' if ok else 'NO'}" for name, ok in checks))

    noisy = defaultdict(list)
    for r in runs:
        if r["workload"].startswith("noisy-"):
            noisy[r["policy"]].append(r)
    if not noisy:
        return
    print()
    print("Noisy near-critical guests (noisy-*), "
          f"{len(noisy['oracle'])} runs a policy:")
    s = main_table(noisy)
    robust = [r for r in noisy["engine"] if r["oracle_feasible"]
              and r.get("oracle_robust", True)]
    luck = [r for r in noisy["engine"] if r["oracle_feasible"]
            and not r.get("oracle_robust", True)]
    print(f"engine on the feasible cases where half the stop points of some "
          f"round meet the SLA: {sum(map(met, robust))}/{len(robust)}; where "
          f"fewer do (dips): {sum(map(met, luck))}/{len(luck)}")
    for p in ("engine", "engine-bound"):
        e, ea = s[p], s[p.replace("engine", "engine-abort")]
        checks = [
            (">= 98% SLA hits", e["hit"] >= .98),
            ("<= 1.10x the oracle's pages", pct(e["ratio"], .5) <= 1.10),
            (f"<= 2% false aborts ({p.replace('engine', 'engine-abort')})",
             len(ea["f"]) and ea["ab_bad"] / len(ea["f"]) <= .02),
        ]
        print(f"targets ({p}, noisy): " + "; ".join(
            f"{name}: {'yes' if ok else 'NO'}" for name, ok in checks))
    # What waiting to the limit costs: the time of precopy before an
    # abort, on the infeasible cases each aborted.
    waits = []
    for p in ("engine-abort", "engine-abort-bound"):
        t = [r["total_s"] for r in noisy[p]
             if not r["oracle_feasible"] and r["verdict"] == "abort"]
        waits.append(f"{p} {fmt(pct(t, .5), '{:.1f}')} s ({len(t)})")
    print("precopy before an abort, infeasible cases, median: " +
          ", ".join(waits))


if __name__ == "__main__":
    main(sys.argv[1])
