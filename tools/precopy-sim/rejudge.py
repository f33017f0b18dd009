#!/usr/bin/env python3
# rejudge.py RESULTS SIM [--jobs N] [--only WORD] [--misses]
#
# Runs the engine of another simulator build (SIM, e.g. one built with
# ENGINE_DIR, or from another tree) on every case of a finished bench's
# RESULTS (build/bench/results.jsonl), as engine and engine-abort, and
# judges it against that bench's oracle: the oracle's runs, which dominate
# a bench's time, do not depend on the engine.  Prints, for the noisy
# near-critical guests (workloads noisy-*) and for the others: SLA hits on
# the feasible cases, the median of pages / the oracle's fewest, false
# aborts (engine-abort, feasible cases) and aborts of infeasible cases.
# --misses lists each feasible case the engine missed, with its reason.
import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))


def load(path):
    runs = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                runs.append(json.loads(line))
            except ValueError:
                sys.exit("rejudge: %s:%d: not a JSON line" % (path, n))
    return runs


def case_of(r):
    return (r['workload'], r['guest_mib'], r['link_mbit'], r['seed'],
            r['sla_ms'])


def run(sim, case, abort):
    w, mib, link, seed, sla = case
    cmd = [sim, '-w', os.path.join(HERE, 'workloads', w + '.wl'),
           '-p', 'engine', '--json', '--sla', str(sla), '--seed', str(seed),
           '--guest-mib', str(mib), '--link-mbit', str(link)]
    if abort:
        cmd.append('--abort-if-busy')
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        sys.exit("rejudge: %s failed:\n%s" % (' '.join(cmd), p.stderr))
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('results')
    ap.add_argument('sim')
    ap.add_argument('--jobs', type=int, default=os.cpu_count())
    ap.add_argument('--only', default='')
    ap.add_argument('--misses', action='store_true')
    a = ap.parse_args()

    oracle = {case_of(r): r for r in load(a.results)
              if r['policy'] == 'oracle' and a.only in r['workload']}
    if not oracle:
        sys.exit("rejudge: %s: no oracle runs" % a.results)
    jobs = [(c, abort) for c in sorted(oracle) for abort in (False, True)]
    with ThreadPoolExecutor(a.jobs) as ex:
        out = list(ex.map(lambda j: run(a.sim, *j), jobs))

    stats = collections.defaultdict(lambda: collections.defaultdict(list))
    misses = []
    for (case, abort), r in zip(jobs, out):
        o = oracle[case]
        pol = 'engine-abort' if abort else 'engine'
        s = stats[('noisy' if case[0].startswith('noisy') else 'other', pol)]
        aborted = r['verdict'] == 'abort'
        if o['oracle_feasible']:
            s['feasible'].append(case)
            if aborted:
                s['false_aborts'].append(case)
            elif r['downtime_ms'] <= case[4]:
                s['hits'].append(r['pages_sent'] / o['oracle_pages'])
            else:
                misses.append((pol, case, r.get('reason'),
                               r['downtime_ms'], r['stop_pos'],
                               o['stop_pos']))
        else:
            s['infeasible'].append(case)
            if aborted:
                s['aborts_ok'].append(case)

    print("%-6s %-13s %22s %14s %14s %12s" % (
        'guests', 'policy', 'SLA hits (feasible)', 'pages/oracle',
        'false aborts', 'aborts ok'))
    for (group, pol), s in sorted(stats.items()):
        f, h = len(s['feasible']), s['hits']
        fa = ("%d/%d" % (len(s['false_aborts']), f)
              if pol == 'engine-abort' else '-')
        ok = ("%d/%d" % (len(s['aborts_ok']), len(s['infeasible']))
              if pol == 'engine-abort' else '-')
        print("%-6s %-13s %6.1f%% %6d/%-6d %14s %14s %12s" % (
            group, pol, 100.0 * len(h) / max(f, 1), len(h), f,
            "%.3f" % statistics.median(h) if h else '-', fa, ok))
    if a.misses:
        for m in misses:
            print("missed: %s %s reason '%s': %.0f ms, stopped at %.1f, "
                  "the oracle at %.1f" % m)


if __name__ == '__main__':
    main()
