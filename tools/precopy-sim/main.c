/*
 * precopy-sim: command line of the precopy policy simulator (sim.h).
 * 'precopy-sim --help' lists the options; README.md has the details.
 */
#include "xg_sr_common.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_xen.h"
#include "sim.h"
#include "trace.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: precopy-sim -w WORKLOAD [options]\n"
"       precopy-sim -t TRACE --link-mbit N [options]\n"
"       precopy-sim --trace-info TRACE\n"
"  -w, --workload FILE     workload file (key = value, see README.md)\n"
"  -t, --trace FILE        replay a dirty trace (xen-dirty-record): the\n"
"                          guest's size and holes from it, the link given\n"
"      --trace-info FILE   what a trace holds: size, records, rates\n"
"  -p, --policy NAME       xen-default | qemu | engine | engine-abort |\n"
"                          stop-at | oracle | engine-ac | qemu-ac |\n"
"                          engine-bound | engine-abort-bound (the engine\n"
"                          with --cap-rounds as its --max-rounds and\n"
"                          --cap-factor as its --max-factor-pct / 100)\n"
"                          (default engine)\n"
"  -s, --sla MS            downtime SLA, ms (default 300); the downtime\n"
"                          target of qemu and engine\n"
"  -S, --seed N            seed (default 1)\n"
"      --link-mbit N       link bandwidth (default: the workload's)\n"
"      --link-drop S:N     from S seconds on, the link carries N Mbit/s\n"
"                          (link_drop_at_s, link_drop_mbit; also with -t)\n"
"      --guest-mib N       guest size (default: the workload's)\n"
"      --switchover-ms N   fixed switchover cost (default: the workload's)\n"
"      --batches N         precopy_policy_batches for qemu, engine, oracle\n"
"                          (default 4; xen-default always runs with 0)\n"
"      --stop-at K         stop-at: stop at the K-th consultation (0-based)\n"
"      --cap-factor X      harness limit: stop after X x guest pages of\n"
"                          precopy (default 5)\n"
"      --cap-rounds N      harness limit: stop after N rounds (default 30)\n"
"      --throttle PCT      throttle the guest's CPU by PCT%% from the start\n"
"      --max-throttle PCT  the most engine-ac and qemu-ac throttle (99)\n"
"  engine parameters (libxl__precopy_params; downtime_ms is the SLA):\n"
"      --max-rounds N  --dirty-target N  --max-factor-pct N\n"
"      --abort-if-busy  --timeout-ms N  --timeout-action abort|switchover\n"
"  output:\n"
"      --json              one JSON object per run\n"
"      --time              print how long the run took (wall clock)\n"
"      --sweep             every policy, --seeds seeds from --seed on,\n"
"                          every --slas;\n"
"                          one JSON line per run, with the oracle's figures\n"
"      --ac-sweep          the same for auto-converge: engine, engine-ac,\n"
"                          qemu, qemu-ac, and the oracle at throttles from\n"
"                          0 to --max-throttle\n"
"      --seeds N           (default 30)\n"
"      --slas LIST         comma-separated, ms (default 50,100,300,1000)\n"
"      --plot-data DIR     write DIR/NAME.{rounds,front,stops} for gnuplot\n"
"                          (seed --seed, SLA --sla)\n"
"      --record-trace FILE write the workload's dirtying (seed --seed) as a\n"
"                          dirty trace, as xen-dirty-record would see it:\n"
"      --interval-ms N     every N ms (default 100)\n"
"      --duration-s S      for S seconds (default 10)\n");
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void print_human(const struct sim_config *c, const struct sim_result *r)
{
    printf("%s / %s, SLA %g ms, seed %"PRIu64": %s\n", c->wl->name,
           sim_policy_name(c->policy), c->sla_ms, c->seed,
           r->aborted ? "aborted" : r->rc ? "failed" :
           r->downtime_ms <= c->sla_ms ? "SLA met" : "SLA missed");
    printf("  rounds %u, pages sent %lu (precopy %lu, stop-and-copy %lu) of "
           "a %lu-page guest\n", r->rounds, r->pages_sent, r->precopy_pages,
           r->stopcopy_pages, r->guest_pages);
    printf("  downtime %.1f ms, total %.3f s%s\n", r->downtime_ms, r->total_s,
           r->capped ? " (harness cap reached)" : "");
    if ( r->lost_cpu_s || r->max_throttle_pct )
        printf("  throttle up to %u%% (%u changes), %.3f s of the guest's "
               "CPU time lost\n", r->max_throttle_pct, r->throttle_steps,
               r->lost_cpu_s);
}

static const struct sim_policy_set {
    enum sim_policy p;
} sweep_policies[] = {
    { SIM_P_XEN }, { SIM_P_QEMU }, { SIM_P_ENGINE }, { SIM_P_ENGINE_ABORT },
    { SIM_P_ENGINE_BOUND }, { SIM_P_ENGINE_ABORT_BOUND },
};

/* Check the oracle's stop point i by replaying it (once per point). */
static int verify(const struct sim_config *c, const struct sim_oracle *o,
                  unsigned int i, unsigned char *done)
{
    struct sim_result r;

    if ( done[i] )
        return 0;
    done[i] = 1;
    if ( sim_oracle_verify(c, o, i, &r) == 0 )
        return 0;
    fprintf(stderr, "precopy-sim: %s seed %"PRIu64": the oracle's stop "
            "point %u (consultation %u) costs %lu pages, %.3f ms; the "
            "replay gives %lu pages, %.3f ms (rc %d, %lu stale)\n",
            c->wl->path, c->seed, i, o->stop[i].consult, o->stop[i].pages_sent,
            o->stop[i].downtime_ms, r.pages_sent, r.downtime_ms, r.rc,
            r.stale);
    return -1;
}

/* The oracle as a result: its choice for the SLA. */
static void oracle_result(const struct sim_oracle *o,
                          const struct sim_choice *ch, struct sim_result *r)
{
    const struct sim_stop *best = &o->stop[ch->feasible ? ch->fewest
                                                        : ch->min_dt];

    *r = o->trace;
    r->pages_sent = best->pages_sent;
    r->downtime_ms = best->downtime_ms;
    r->stop_pos = best->pos;
    r->capped = false;
}

static int sweep(struct sim_config *c, unsigned int seeds, double *slas,
                 unsigned int nr_slas)
{
    static struct sim_oracle o;
    static unsigned char done[SIM_MAX_POINTS];
    struct sim_result r, xen;
    struct sim_choice ch;
    unsigned int s, i, k;

    uint64_t first = c->seed;

    for ( s = 0; s < seeds; s++ )
    {
        c->seed = first + s;
        c->policy = SIM_P_ORACLE;
        if ( sim_oracle(c, &o) )
        {
            fprintf(stderr, "precopy-sim: %s: oracle run failed\n",
                    c->wl->path);
            return 1;
        }
        memset(done, 0, sizeof(done));
        c->policy = SIM_P_XEN;
        sim_run(c, &xen);
        for ( i = 0; i < nr_slas; i++ )
        {
            c->sla_ms = slas[i];
            sim_oracle_choose(&o, c->sla_ms, &ch);
            if ( (ch.feasible && verify(c, &o, ch.fewest, done)) ||
                 verify(c, &o, ch.min_dt, done) )
                return 1;
            c->policy = SIM_P_ORACLE;
            oracle_result(&o, &ch, &r);
            sim_json(stdout, c, &r, &o, &ch);
            putchar('\n');
            for ( k = 0; k < sizeof(sweep_policies) / sizeof(sweep_policies[0]);
                  k++ )
            {
                c->policy = sweep_policies[k].p;
                if ( c->policy == SIM_P_XEN )
                    r = xen;   /* does not depend on the SLA */
                else
                    sim_run(c, &r);
                if ( r.rc && !r.aborted )
                {
                    fprintf(stderr, "precopy-sim: %s: %s failed: rc %d "
                            "errno %d\n", c->wl->path,
                            sim_policy_name(c->policy), r.rc, r.err);
                    return 1;
                }
                if ( r.stale || r.hole_writes )
                {
                    fprintf(stderr, "precopy-sim: %s: %s: %lu pfns stale "
                            "at the destination, %lu unpopulated pfns "
                            "written\n", c->wl->path,
                            sim_policy_name(c->policy), r.stale,
                            r.hole_writes);
                    return 1;
                }
                sim_json(stdout, c, &r, &o, &ch);
                putchar('\n');
            }
        }
        fflush(stdout);
    }
    return 0;
}

/*
 * Auto-converge.  The throttle-aware oracle: the oracle of a guest
 * throttled by each of these from the start (up to the bound); the SLA is
 * feasible if it is at one of them, and its cost is the least of them
 * that does (the throttle x the time of its stop point).
 */
static const unsigned int ac_grid[] = { 0, 20, 40, 60, 80, 90, 95, 99 };
#define AC_GRID (sizeof(ac_grid) / sizeof(ac_grid[0]))
static const enum sim_policy ac_policies[] = {
    SIM_P_ENGINE, SIM_P_ENGINE_AC, SIM_P_QEMU, SIM_P_QEMU_AC,
};

struct ac_choice {
    int g;                       /* the least throttle in ac_grid, or -1 */
    unsigned long pages;
    double downtime_ms, lost_cpu_s;
};

/* A JSON line, with the throttle-aware oracle's figures. */
static void ac_json(const struct sim_config *c, const struct sim_result *r,
                    const struct sim_oracle *o, const struct sim_choice *ch,
                    const struct ac_choice *ac)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if ( !f )
        abort();
    sim_json(f, c, r, o, ch);
    fclose(f);
    buf[len - 1] = 0;          /* the closing brace */
    printf("%s,\"sweep\":\"ac\",\"ac_feasible\":%s", buf,
           ac->g >= 0 ? "true" : "false");
    if ( ac->g >= 0 )
        printf(",\"ac_oracle_throttle_pct\":%u,\"ac_oracle_pages\":%lu,"
               "\"ac_oracle_downtime_ms\":%.3f,\"ac_oracle_lost_cpu_s\":%.4f",
               ac_grid[ac->g], ac->pages, ac->downtime_ms, ac->lost_cpu_s);
    printf("}\n");
    free(buf);
}

static int ac_sweep(struct sim_config *c, unsigned int seeds, double *slas,
                    unsigned int nr_slas)
{
    static struct sim_oracle o[AC_GRID];
    static unsigned char done[AC_GRID][SIM_MAX_POINTS];
    unsigned int max = c->max_throttle_pct && c->max_throttle_pct < 99
                       ? c->max_throttle_pct : 99;
    unsigned int s, i, k, g, ng;
    uint64_t first = c->seed;
    struct sim_result r;
    struct sim_choice ch, chg;
    struct ac_choice ac;

    for ( ng = 0; ng < AC_GRID && ac_grid[ng] <= max; ng++ )
        ;
    for ( s = 0; s < seeds; s++ )
    {
        c->seed = first + s;
        for ( g = 0; g < ng; g++ )
        {
            c->policy = SIM_P_ORACLE;
            c->throttle_pct = ac_grid[g];
            if ( sim_oracle(c, &o[g]) )
            {
                fprintf(stderr, "precopy-sim: %s: oracle run (throttle "
                        "%u%%) failed\n", c->wl->path, ac_grid[g]);
                return 1;
            }
        }
        memset(done, 0, sizeof(done));
        for ( i = 0; i < nr_slas; i++ )
        {
            c->sla_ms = slas[i];
            ac.g = -1;
            for ( g = 0; g < ng && ac.g < 0; g++ )
            {
                sim_oracle_choose(&o[g], c->sla_ms, &chg);
                if ( !chg.feasible )
                    continue;
                c->throttle_pct = ac_grid[g];
                if ( verify(c, &o[g], chg.fewest, done[g]) )
                    return 1;
                ac.g = g;
                ac.pages = o[g].stop[chg.fewest].pages_sent;
                ac.downtime_ms = o[g].stop[chg.fewest].downtime_ms;
                ac.lost_cpu_s = ac_grid[g] / 100.0 *
                                o[g].stop[chg.fewest].t_s;
            }
            c->throttle_pct = 0;
            sim_oracle_choose(&o[0], c->sla_ms, &ch);
            if ( (ch.feasible && verify(c, &o[0], ch.fewest, done[0])) ||
                 verify(c, &o[0], ch.min_dt, done[0]) )
                return 1;
            c->policy = SIM_P_ORACLE;
            oracle_result(&o[0], &ch, &r);
            ac_json(c, &r, &o[0], &ch, &ac);
            for ( k = 0; k < sizeof(ac_policies) / sizeof(ac_policies[0]);
                  k++ )
            {
                c->policy = ac_policies[k];
                sim_run(c, &r);
                if ( (r.rc && !r.aborted) || r.stale || r.hole_writes )
                {
                    fprintf(stderr, "precopy-sim: %s: %s failed: rc %d "
                            "errno %d, %lu pfns stale, %lu unpopulated "
                            "pfns written\n", c->wl->path,
                            sim_policy_name(c->policy), r.rc, r.err,
                            r.stale, r.hole_writes);
                    return 1;
                }
                ac_json(c, &r, &o[0], &ch, &ac);
            }
        }
        fflush(stdout);
    }
    return 0;
}

static int plot_data(struct sim_config *c, const char *dir)
{
    static struct sim_oracle o;
    struct sim_choice ch;
    struct sim_result r;
    char path[512];
    FILE *f;
    unsigned int i, k;

    if ( sim_oracle(c, &o) )
        return 1;
    sim_oracle_choose(&o, c->sla_ms, &ch);

    snprintf(path, sizeof(path), "%s/%s.rounds", dir, c->wl->name);
    if ( !(f = fopen(path, "w")) )
        goto fail;
    fprintf(f, "# round  pages-in-round (oracle trace to the cap)\n");
    for ( i = 0; i < o.trace.rounds && i < SIM_MAX_ROUNDS; i++ )
        fprintf(f, "%u %lu\n", i, o.trace.round_size[i]);
    fclose(f);

    snprintf(path, sizeof(path), "%s/%s.front", dir, c->wl->name);
    if ( !(f = fopen(path, "w")) )
        goto fail;
    fprintf(f, "# stop-pos pages-sent downtime-ms (every stop point)\n");
    for ( i = 0; i < o.nr; i++ )
        fprintf(f, "%.4f %lu %.3f\n", o.stop[i].pos, o.stop[i].pages_sent,
                o.stop[i].downtime_ms);
    fclose(f);

    snprintf(path, sizeof(path), "%s/%s.stops", dir, c->wl->name);
    if ( !(f = fopen(path, "w")) )
        goto fail;
    fprintf(f, "# policy stop-pos pages-sent downtime-ms\n");
    if ( ch.feasible )
        fprintf(f, "oracle-fewest %.4f %lu %.3f\n", o.stop[ch.fewest].pos,
                o.stop[ch.fewest].pages_sent, o.stop[ch.fewest].downtime_ms);
    fprintf(f, "oracle-min-downtime %.4f %lu %.3f\n", o.stop[ch.min_dt].pos,
            o.stop[ch.min_dt].pages_sent, o.stop[ch.min_dt].downtime_ms);
    for ( k = 0; k < sizeof(sweep_policies) / sizeof(sweep_policies[0]); k++ )
    {
        c->policy = sweep_policies[k].p;
        sim_run(c, &r);
        fprintf(f, "%s %.4f %lu %.3f%s\n", sim_policy_name(c->policy),
                r.aborted ? o.trace.stop_pos : r.stop_pos, r.pages_sent,
                r.downtime_ms, r.aborted ? " # aborted" : "");
    }
    fclose(f);
    return 0;
 fail:
    perror(path);
    return 1;
}

enum {
    O_LINK = 256, O_GUEST, O_SWITCH, O_BATCHES, O_STOP_AT, O_CAPF, O_CAPR,
    O_MAXR, O_DIRTY, O_FACTOR, O_ABUSY, O_TMO, O_TMOA, O_JSON, O_TIME,
    O_SWEEP, O_SEEDS, O_SLAS, O_PLOT, O_TINFO, O_REC, O_RECI, O_RECD,
    O_THR, O_MAXTHR, O_ACSWEEP, O_LDROP,
};

/* --trace-info: what a trace holds. */
static int trace_info(const char *path)
{
    struct sim_trace t;
    char err[512];
    unsigned long k, max = 0;
    double span, pop;
    uint64_t unpop = 0;
    unsigned int i;

    if ( sim_trace_load(&t, path, err, sizeof(err)) )
    {
        fprintf(stderr, "precopy-sim: %s\n", err);
        return 1;
    }
    for ( i = 0; i < t.nr_unpop; i++ )
        unpop += t.unpop[i][1];
    for ( k = 0; k < t.nr_records; k++ )
        if ( t.nr_pfns[k] > max )
            max = t.nr_pfns[k];
    span = t.end_ns[t.nr_records - 1] / 1e9;
    pop = t.p2m_size - unpop;
    printf("%s: %s\n", path, t.comment[0] ? t.comment : "(no comment)");
    printf("  p2m %"PRIu64" pfns (%.1f MiB), %"PRIu64" unpopulated in %u "
           "ranges: %.0f pages populated (%.1f MiB)\n", t.p2m_size,
           t.p2m_size / 256.0, unpop, t.nr_unpop, pop, pop / 256.0);
    printf("  %lu records over %.3f s (interval %.1f ms), %zu bytes "
           "(%.1f per record, %.2f per dirty pfn)\n", t.nr_records, span,
           t.interval_ns / 1e6, t.len, (double)t.len / t.nr_records,
           t.total_pfns ? (double)t.len / t.total_pfns : 0);
    printf("  dirty pfns per record: mean %.1f, max %lu; %.1f pages/s "
           "(%.2f MiB/s) dirtied\n", (double)t.total_pfns / t.nr_records,
           max, t.total_pfns / span, t.total_pfns / span / 256);
    sim_trace_free(&t);
    return 0;
}

static double num(const char *opt, const char *s)
{
    char *end;
    double v = strtod(s, &end);

    if ( end == s || *end || v < 0 )
    {
        fprintf(stderr, "precopy-sim: %s: not a number >= 0: '%s'\n", opt, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "workload", 1, 0, 'w' }, { "policy", 1, 0, 'p' },
        { "trace", 1, 0, 't' }, { "trace-info", 1, 0, O_TINFO },
        { "record-trace", 1, 0, O_REC }, { "interval-ms", 1, 0, O_RECI },
        { "duration-s", 1, 0, O_RECD },
        { "sla", 1, 0, 's' }, { "seed", 1, 0, 'S' }, { "help", 0, 0, 'h' },
        { "link-mbit", 1, 0, O_LINK }, { "link-drop", 1, 0, O_LDROP }, { "guest-mib", 1, 0, O_GUEST },
        { "switchover-ms", 1, 0, O_SWITCH }, { "batches", 1, 0, O_BATCHES },
        { "stop-at", 1, 0, O_STOP_AT }, { "cap-factor", 1, 0, O_CAPF },
        { "cap-rounds", 1, 0, O_CAPR }, { "max-rounds", 1, 0, O_MAXR },
        { "dirty-target", 1, 0, O_DIRTY }, { "max-factor-pct", 1, 0, O_FACTOR },
        { "abort-if-busy", 0, 0, O_ABUSY }, { "timeout-ms", 1, 0, O_TMO },
        { "timeout-action", 1, 0, O_TMOA }, { "json", 0, 0, O_JSON },
        { "time", 0, 0, O_TIME }, { "sweep", 0, 0, O_SWEEP },
        { "seeds", 1, 0, O_SEEDS }, { "slas", 1, 0, O_SLAS },
        { "plot-data", 1, 0, O_PLOT }, { "throttle", 1, 0, O_THR },
        { "max-throttle", 1, 0, O_MAXTHR }, { "ac-sweep", 0, 0, O_ACSWEEP },
        { 0 },
    };
    struct sim_workload wl;
    struct sim_config c;
    struct sim_result r;
    const char *wpath = NULL, *tpath = NULL, *plot = NULL, *rec = NULL;
    double rec_interval_ms = 100, rec_duration_s = 10;
    double drop_s = 0, drop_mbit = 0;   /* --link-drop */
    bool json = false, timing = false, do_sweep = false, do_ac_sweep = false;
    unsigned int seeds = 30, nr_slas = 4;
    double slas[16] = { 50, 100, 300, 1000 };
    char err[512];
    int opt, p;

    sim_config_default(&c);
    while ( (opt = getopt_long(argc, argv, "w:t:p:s:S:h", lo, NULL)) != -1 )
    {
        switch ( opt )
        {
        case 'w': wpath = optarg; break;
        case 't': tpath = optarg; break;
        case O_TINFO: return trace_info(optarg);
        case 'p':
            if ( (p = sim_policy_parse(optarg)) < 0 )
            {
                fprintf(stderr, "precopy-sim: unknown policy '%s'\n", optarg);
                return 2;
            }
            c.policy = p;
            break;
        case 's': c.sla_ms = num("--sla", optarg); break;
        case 'S': c.seed = num("--seed", optarg); break;
        case 'h': usage(stdout); return 0;
        case O_LINK: c.link_mbit = num("--link-mbit", optarg); break;
        case O_LDROP:
        {
            char *colon = strchr(optarg, ':');

            if ( !colon )
            {
                fprintf(stderr, "precopy-sim: --link-drop: not S:MBIT: "
                        "'%s'\n", optarg);
                return 2;
            }
            *colon = 0;
            drop_s = num("--link-drop", optarg);
            drop_mbit = num("--link-drop", colon + 1);
            if ( !(drop_mbit > 0) )
            {
                fprintf(stderr, "precopy-sim: --link-drop: the rate must be "
                        "> 0\n");
                return 2;
            }
            break;
        }
        case O_GUEST: c.guest_mib = num("--guest-mib", optarg); break;
        case O_SWITCH: c.switchover_ms = num("--switchover-ms", optarg); break;
        case O_BATCHES: c.batches = num("--batches", optarg); break;
        case O_STOP_AT: c.stop_at = num("--stop-at", optarg); break;
        case O_CAPF: c.cap_factor = num("--cap-factor", optarg); break;
        case O_CAPR: c.cap_rounds = num("--cap-rounds", optarg); break;
        case O_MAXR: c.engine.max_rounds = num("--max-rounds", optarg); break;
        case O_DIRTY: c.engine.dirty_target = num("--dirty-target", optarg); break;
        case O_FACTOR:
            c.engine.max_factor_pct = num("--max-factor-pct", optarg);
            break;
        case O_ABUSY: c.engine.abort_if_busy = true; break;
        case O_TMO: c.engine.timeout_ms = num("--timeout-ms", optarg); break;
        case O_TMOA:
            if ( !strcmp(optarg, "abort") )
                c.engine.timeout_action = LIBXL__PRECOPY_TIMEOUT_ABORT;
            else if ( !strcmp(optarg, "switchover") )
                c.engine.timeout_action = LIBXL__PRECOPY_TIMEOUT_SWITCHOVER;
            else
            {
                fprintf(stderr, "precopy-sim: --timeout-action: abort or "
                        "switchover, not '%s'\n", optarg);
                return 2;
            }
            break;
        case O_JSON: json = true; break;
        case O_TIME: timing = true; break;
        case O_SWEEP: do_sweep = true; break;
        case O_ACSWEEP: do_ac_sweep = true; break;
        case O_THR: c.throttle_pct = num("--throttle", optarg); break;
        case O_MAXTHR:
            c.max_throttle_pct = num("--max-throttle", optarg);
            break;
        case O_SEEDS: seeds = num("--seeds", optarg); break;
        case O_SLAS:
        {
            char *s = optarg, *tok;

            for ( nr_slas = 0; (tok = strtok(s, ",")) && nr_slas < 16;
                  s = NULL )
                slas[nr_slas++] = num("--slas", tok);
            break;
        }
        case O_PLOT: plot = optarg; break;
        case O_REC: rec = optarg; break;
        case O_RECI: rec_interval_ms = num("--interval-ms", optarg); break;
        case O_RECD: rec_duration_s = num("--duration-s", optarg); break;
        default: usage(stderr); return 2;
        }
    }
    if ( !wpath == !tpath || optind != argc )
    {
        usage(stderr);
        return 2;
    }
    if ( wpath ? sim_workload_load(&wl, wpath, err, sizeof(err))
               : sim_workload_from_trace(&wl, tpath, c.link_mbit,
                                         c.switchover_ms, err, sizeof(err)) )
    {
        fprintf(stderr, "precopy-sim: %s\n", err);
        return 1;
    }
    if ( drop_mbit > 0 )
    {
        if ( wl.nr_links || wl.link_drop_at_s >= 0 )
        {
            fprintf(stderr, "precopy-sim: --link-drop: %s has a link "
                    "schedule already\n", wl.path);
            return 2;
        }
        wl.link_drop_at_s = drop_s;
        wl.link_drop_mbit = drop_mbit;
    }
    c.wl = &wl;
    if ( sim_config_check(&c, err, sizeof(err)) )
    {
        fprintf(stderr, "precopy-sim: %s\n", err);
        return 1;
    }
    if ( c.cap_rounds >= SIM_MAX_ROUNDS )
        c.cap_rounds = SIM_MAX_ROUNDS - 1;

    if ( rec )
    {
        FILE *f;
        long n;

        if ( !(rec_interval_ms > 0) || !(rec_duration_s > 0) )
        {
            fprintf(stderr, "precopy-sim: --interval-ms and --duration-s "
                    "must be above 0\n");
            return 2;
        }
        if ( !(f = fopen(rec, "wb")) )
        {
            perror(rec);
            return 1;
        }
        n = sim_model_record(&c, rec_duration_s, rec_interval_ms / 1000, f);
        if ( n < 0 || fclose(f) )
        {
            perror(rec);
            return 1;
        }
        printf("%s: %ld records of %s (seed %"PRIu64")\n", rec, n, wl.name,
               c.seed);
        return 0;
    }
#if !defined(SIM_HAVE_AUTO_CONVERGE)
    if ( do_ac_sweep || c.policy == SIM_P_ENGINE_AC )
    {
        fprintf(stderr, "precopy-sim: the engine of this build has no "
                "auto-converge (engine-ac, --ac-sweep)\n");
        return 2;
    }
#endif
    if ( c.throttle_pct > 99 )
    {
        fprintf(stderr, "precopy-sim: --throttle: at most 99\n");
        return 2;
    }
    if ( do_ac_sweep )
        return ac_sweep(&c, seeds, slas, nr_slas);
    if ( do_sweep )
        return sweep(&c, seeds, slas, nr_slas);
    if ( plot )
        return plot_data(&c, plot);

    if ( c.policy == SIM_P_ORACLE )
    {
        static struct sim_oracle o;
        struct sim_choice ch;
        double t0 = now_s();

        if ( sim_oracle(&c, &o) )
        {
            fprintf(stderr, "precopy-sim: oracle run failed\n");
            return 1;
        }
        sim_oracle_choose(&o, c.sla_ms, &ch);
        {
            static unsigned char done[SIM_MAX_POINTS];

            if ( (ch.feasible && verify(&c, &o, ch.fewest, done)) ||
                 verify(&c, &o, ch.min_dt, done) )
                return 1;
        }
        oracle_result(&o, &ch, &r);
        if ( json )
        {
            sim_json(stdout, &c, &r, &o, &ch);
            putchar('\n');
        }
        else
        {
            printf("%s / oracle, SLA %g ms, seed %"PRIu64": %u stop points, "
                   "%s\n", wl.name, c.sla_ms, c.seed, o.nr,
                   ch.feasible ? "feasible" : "infeasible");
            if ( ch.feasible )
                printf("  fewest pages meeting the SLA: %lu pages, %.1f ms "
                       "(stop at round %.2f)\n",
                       o.stop[ch.fewest].pages_sent,
                       o.stop[ch.fewest].downtime_ms, o.stop[ch.fewest].pos);
            printf("  minimum downtime: %.1f ms, %lu pages (stop at round "
                   "%.2f)\n", o.stop[ch.min_dt].downtime_ms,
                   o.stop[ch.min_dt].pages_sent, o.stop[ch.min_dt].pos);
        }
        if ( timing )
            printf("time: %.3f s wall\n", now_s() - t0);
        return 0;
    }

    {
        double t0 = now_s(), c0 = cpu_s(), dt, dc;

        if ( sim_run(&c, &r) )
            return 1;
        dt = now_s() - t0;
        dc = cpu_s() - c0;
        if ( json )
        {
            sim_json(stdout, &c, &r, NULL, NULL);
            putchar('\n');
        }
        else
            print_human(&c, &r);
        if ( timing )
            printf("time: %s, %lu-page guest (%.0f MiB), %lu pages sent, "
                   "%lu page writes: %.3f s wall, %.3f s CPU\n", wl.name,
                   r.guest_pages, r.guest_pages / 256.0, r.pages_sent,
                   r.dirtied, dt, dc);
        if ( r.stale || r.hole_writes )
        {
            fprintf(stderr, "precopy-sim: %lu pfns stale at the destination, "
                    "%lu unpopulated pfns written\n", r.stale, r.hole_writes);
            return 1;
        }
        return r.rc && !r.aborted ? 1 : 0;
    }
}
