#!/usr/bin/env python3
# rejudge.py RESULTS SIM OUT [--jobs N] [--only WORD] [--misses]
#
# Runs the engine of another simulator build (SIM, e.g. one built with
# ENGINE_DIR, or from another tree) on every case of a finished bench's
# RESULTS (build/bench/results.jsonl), as engine, engine-abort,
# engine-bound and engine-abort-bound, and writes OUT: RESULTS with those
# policies' runs replaced by SIM's (or added, from a bench without them),
# each with its case's oracle figures.  The oracle's runs, which are most
# of a bench's time, do not depend on the engine.  Then prints
# report.py's tables of OUT (the noisy guests' targets among them).
# --only WORD keeps the cases whose workload's name has WORD; --misses
# also lists each feasible case the engine missed, with its reason.
import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINES = ('engine', 'engine-abort', 'engine-bound', 'engine-abort-bound')


def case_of(r):
    return (r['workload'], r['guest_mib'], r['link_mbit'], r['seed'],
            r['sla_ms'])


def run(sim, case, policy):
    w, mib, link, seed, sla = case
    cmd = [sim, '-w', os.path.join(HERE, 'workloads', w + '.wl'),
           '-p', 'engine', '--json', '--sla', str(sla), '--seed', str(seed),
           '--guest-mib', str(mib), '--link-mbit', str(link)]
    cmd[cmd.index('engine')] = policy
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        sys.exit("rejudge: %s failed:\n%s" % (' '.join(cmd), p.stderr))
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('results')
    ap.add_argument('sim')
    ap.add_argument('out')
    ap.add_argument('--jobs', type=int, default=os.cpu_count())
    ap.add_argument('--only', default='')
    ap.add_argument('--misses', action='store_true')
    a = ap.parse_args()

    with open(a.results) as f:
        runs = [json.loads(l) for l in f if l.strip()]
    runs = [r for r in runs if a.only in r['workload']]
    oracle = {case_of(r): r for r in runs if r['policy'] == 'oracle'}
    if not oracle:
        sys.exit("rejudge: %s: no oracle runs" % a.results)
    jobs = [(c, p) for c in sorted(oracle) for p in ENGINES]
    with ThreadPoolExecutor(a.jobs) as ex:
        new = list(ex.map(lambda j: run(a.sim, *j), jobs))

    with open(a.out, 'w') as f:
        for r in runs:
            if r['policy'] not in ENGINES:
                f.write(json.dumps(r) + '\n')
        for (case, policy), r in zip(jobs, new):
            o = oracle[case]
            r.update({k: v for k, v in o.items() if k.startswith('oracle_')})
            r['policy'] = policy
            f.write(json.dumps(r) + '\n')
            if a.misses and o['oracle_feasible'] and r['verdict'] != 'met':
                print("missed: %s %s %s, reason '%s': %.0f ms, stopped at "
                      "%.1f, the oracle at %.1f" % (
                          policy, case, r['verdict'], r.get('reason'),
                          r['downtime_ms'], r['stop_pos'], o['stop_pos']))
    sys.stdout.flush()
    subprocess.run([sys.executable, os.path.join(HERE, 'report.py'), a.out],
                   check=True)


if __name__ == '__main__':
    main()
