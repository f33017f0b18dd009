/*
 * sim.c - the precopy policy simulator: see sim.h and README.md.
 */
#include "xg_sr_common.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_xen.h"
#include "sim.h"

#define PAGE_BYTES   4096.0
#define MIB_PAGES    256.0        /* pages per MiB */
#define TICK_S       0.01         /* dirtying is integrated in 10 ms steps */
#define JITTER_S     0.1          /* rate jitter changes every 100 ms */

/* ------------------------------------------------------------------ */
/* Workload files                                                       */
/* ------------------------------------------------------------------ */

static int perr(char *err, size_t errsz, const char *path, int line,
                const char *fmt, ...)
{
    va_list ap;
    size_t n = snprintf(err, errsz, "%s:%d: ", path, line);

    va_start(ap, fmt);
    if ( n < errsz )
        vsnprintf(err + n, errsz - n, fmt, ap);
    va_end(ap);
    return -1;
}

static char *trim(char *s)
{
    char *e;

    while ( isspace((unsigned char)*s) )
        s++;
    e = s + strlen(s);
    while ( e > s && isspace((unsigned char)e[-1]) )
        *--e = 0;
    return s;
}

/* Keys: name, where the value goes, and whether it may be 0. */
struct key {
    const char *name;
    size_t off;
    bool phase;
    bool positive;          /* must be > 0 (else >= 0) */
};

#define GK(n, pos) { #n, offsetof(struct sim_workload, n), false, pos }
#define PK(n, pos) { #n, offsetof(struct sim_phase, n), true, pos }
static const struct key keys[] = {
    GK(guest_mib, true), GK(link_mbit, true), GK(link_drop_at_s, false),
    GK(link_drop_mbit, true), GK(switchover_ms, false), GK(cycle_s, true),
    PK(start_s, false), PK(wss_mib, true), PK(wss_pct, true),
    PK(offset_mib, false), PK(write_mib_s, false), PK(write_x_link, false),
    PK(zipf_s, true), PK(drift_mib_s, false), PK(jitter_pct, false),
};

#define UNSET (-1.0)

static void phase_init(struct sim_phase *p, int line)
{
    memset(p, 0, sizeof(*p));
    p->wss_mib = p->wss_pct = p->write_mib_s = p->write_x_link = UNSET;
    p->start_s = UNSET;
    p->zipf_s = 0.99;
    p->dist = -1;
    p->line = line;
}

static int check_phase(const struct sim_workload *wl, const struct sim_phase *p,
                       unsigned int i, char *err, size_t errsz)
{
    const char *path = wl->path;

    if ( (int)p->dist < 0 )
        return perr(err, errsz, path, p->line,
                    "[phase] %u: missing field 'dist'", i + 1);
    if ( (p->wss_mib == UNSET) == (p->wss_pct == UNSET) )
        return perr(err, errsz, path, p->line,
                    "[phase] %u: give exactly one of 'wss_mib', 'wss_pct'",
                    i + 1);
    if ( (p->write_mib_s == UNSET) == (p->write_x_link == UNSET) )
        return perr(err, errsz, path, p->line,
                    "[phase] %u: give exactly one of 'write_mib_s', "
                    "'write_x_link'", i + 1);
    if ( p->wss_pct != UNSET && p->wss_pct > 100 )
        return perr(err, errsz, path, p->line,
                    "[phase] %u: 'wss_pct' is over 100", i + 1);
    if ( i && p->start_s <= wl->phase[i - 1].start_s )
        return perr(err, errsz, path, p->line,
                    "[phase] %u: 'start_s' must be after the previous "
                    "phase's", i + 1);
    if ( wl->cycle_s && p->start_s >= wl->cycle_s )
        return perr(err, errsz, path, p->line,
                    "[phase] %u: 'start_s' is not within 'cycle_s'", i + 1);
    return 0;
}

int sim_workload_parse(struct sim_workload *wl, const char *path,
                       const char *text, char *err, size_t errsz)
{
    char line[512];
    const char *s = text, *nl;
    int lineno = 0;
    struct sim_phase *cur = NULL;
    unsigned int i;

    memset(wl, 0, sizeof(*wl));
    snprintf(wl->path, sizeof(wl->path), "%s", path);
    wl->guest_mib = wl->link_mbit = UNSET;
    wl->link_drop_at_s = wl->link_drop_mbit = UNSET;

    for ( ; *s; s = *nl ? nl + 1 : nl )
    {
        char *l, *eq, *key, *val, *end, *hash;
        size_t len;
        const struct key *k = NULL;
        double v;

        nl = strchr(s, '\n');
        if ( !nl )
            nl = s + strlen(s);
        lineno++;
        len = nl - s;
        if ( len >= sizeof(line) )
            return perr(err, errsz, path, lineno, "line too long");
        memcpy(line, s, len);
        line[len] = 0;
        if ( (hash = strchr(line, '#')) )
            *hash = 0;
        l = trim(line);
        if ( !*l )
            continue;

        if ( !strcmp(l, "[phase]") )
        {
            if ( wl->nr_phases == SIM_MAX_PHASES )
                return perr(err, errsz, path, lineno,
                            "more than %d phases", SIM_MAX_PHASES);
            cur = &wl->phase[wl->nr_phases++];
            phase_init(cur, lineno);
            continue;
        }

        eq = strchr(l, '=');
        if ( !eq )
            return perr(err, errsz, path, lineno,
                        "expected 'key = value' or '[phase]', got '%s'", l);
        *eq = 0;
        key = trim(l);
        val = trim(eq + 1);
        if ( !*val )
            return perr(err, errsz, path, lineno, "'%s' has no value", key);

        if ( !strcmp(key, "name") )
        {
            if ( cur )
                return perr(err, errsz, path, lineno,
                            "'name' belongs before the first [phase]");
            if ( strlen(val) >= sizeof(wl->name) )
                return perr(err, errsz, path, lineno, "'name' is too long");
            for ( i = 0; val[i]; i++ )
                if ( !isalnum((unsigned char)val[i]) && !strchr("-_.", val[i]) )
                    return perr(err, errsz, path, lineno,
                                "'name' may only have letters, digits, "
                                "'-', '_' and '.'");
            strcpy(wl->name, val);
            continue;
        }
        if ( !strcmp(key, "dist") )
        {
            if ( !cur )
                return perr(err, errsz, path, lineno,
                            "'dist' belongs in a [phase]");
            if ( !strcmp(val, "uniform") )
                cur->dist = SIM_UNIFORM;
            else if ( !strcmp(val, "zipf") )
                cur->dist = SIM_ZIPF;
            else if ( !strcmp(val, "seq") )
                cur->dist = SIM_SEQ;
            else
                return perr(err, errsz, path, lineno,
                            "'dist' must be uniform, zipf or seq, not '%s'",
                            val);
            continue;
        }

        for ( i = 0; i < sizeof(keys) / sizeof(keys[0]); i++ )
            if ( !strcmp(keys[i].name, key) )
                k = &keys[i];
        if ( !k )
            return perr(err, errsz, path, lineno, "unknown key '%s'", key);
        if ( k->phase && !cur )
            return perr(err, errsz, path, lineno,
                        "'%s' belongs in a [phase]", key);
        if ( !k->phase && cur )
            return perr(err, errsz, path, lineno,
                        "'%s' belongs before the first [phase]", key);

        v = strtod(val, &end);
        if ( end == val || *end || !isfinite(v) )
            return perr(err, errsz, path, lineno,
                        "'%s' is not a number: '%s'", key, val);
        if ( v < 0 )
            return perr(err, errsz, path, lineno,
                        "'%s' must not be negative (%s)", key, val);
        if ( k->positive && v == 0 )
            return perr(err, errsz, path, lineno, "'%s' must be above 0", key);
        *(double *)((char *)(k->phase ? (void *)cur : (void *)wl) + k->off) = v;
    }

    if ( !wl->name[0] )
        return perr(err, errsz, path, lineno, "missing field 'name'");
    if ( wl->guest_mib == UNSET )
        return perr(err, errsz, path, lineno, "missing field 'guest_mib'");
    if ( wl->link_mbit == UNSET )
        return perr(err, errsz, path, lineno, "missing field 'link_mbit'");
    if ( (wl->link_drop_at_s == UNSET) != (wl->link_drop_mbit == UNSET) )
        return perr(err, errsz, path, lineno,
                    "give both 'link_drop_at_s' and 'link_drop_mbit', or "
                    "neither");
    if ( !wl->nr_phases )
        return perr(err, errsz, path, lineno, "no [phase]: nothing dirties "
                    "memory (an idle guest needs a phase with a low rate)");
    for ( i = 0; i < wl->nr_phases; i++ )
    {
        struct sim_phase *p = &wl->phase[i];

        if ( p->start_s == UNSET )
            p->start_s = i ? -1 : 0;
        if ( i && p->start_s < 0 )
            return perr(err, errsz, path, p->line,
                        "[phase] %u: missing field 'start_s'", i + 1);
        if ( !i && p->start_s != 0 )
            return perr(err, errsz, path, p->line,
                        "[phase] 1: 'start_s' must be 0");
        if ( check_phase(wl, p, i, err, errsz) )
            return -1;
    }
    return 0;
}

int sim_workload_load(struct sim_workload *wl, const char *path,
                      char *err, size_t errsz)
{
    FILE *f = fopen(path, "r");
    char *text;
    long n;
    int rc;

    if ( !f )
    {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return -1;
    }
    if ( fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) )
    {
        snprintf(err, errsz, "%s: cannot read", path);
        fclose(f);
        return -1;
    }
    text = malloc(n + 1);
    if ( !text || fread(text, 1, n, f) != (size_t)n )
    {
        snprintf(err, errsz, "%s: cannot read", path);
        free(text);
        fclose(f);
        return -1;
    }
    text[n] = 0;
    fclose(f);
    rc = sim_workload_parse(wl, path, text, err, errsz);
    free(text);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Policies                                                             */
/* ------------------------------------------------------------------ */

static const char *const policy_names[SIM_P_NR] = {
    [SIM_P_XEN] = "xen-default", [SIM_P_QEMU] = "qemu",
    [SIM_P_ENGINE] = "engine", [SIM_P_ENGINE_ABORT] = "engine-abort",
    [SIM_P_STOP_AT] = "stop-at", [SIM_P_ORACLE] = "oracle",
};

const char *sim_policy_name(enum sim_policy p)
{
    return p < SIM_P_NR ? policy_names[p] : "?";
}

int sim_policy_parse(const char *s)
{
    int i;

    for ( i = 0; i < SIM_P_NR; i++ )
        if ( !strcmp(s, policy_names[i]) )
            return i;
    return -1;
}

void sim_config_default(struct sim_config *c)
{
    memset(c, 0, sizeof(*c));
    c->switchover_ms = -1;
    c->seed = 1;
    c->sla_ms = 300;
    c->policy = SIM_P_ENGINE;
    c->batches = 4;
    c->cap_factor = 5;
    c->cap_rounds = 30;
}

/* ------------------------------------------------------------------ */
/* The simulation state: one run at a time (fake_xen is global too)      */
/* ------------------------------------------------------------------ */

/* Zipf over n ranks, drawn in O(1) with Walker's alias method. */
struct zipf_table {
    unsigned long n;
    double s;
    float *prob;
    uint32_t *alias;
};

static struct sim {
    const struct sim_config *c;
    const struct sim_workload *wl;
    unsigned long pages;
    double link_pps, drop_pps, drop_at_s, switchover_ms;
    struct {
        unsigned long wss, offset, cursor;
        double rate_pps, drift_pps;
        struct zipf_table *z;
    } ph[SIM_MAX_PHASES];

    double t, stop_s;            /* virtual clock; time while suspended */
    double carry;
    uint64_t rng;
    unsigned long dirtied;

    /* The round in progress: its pfns, and how far it has got. */
    unsigned long *roundset, *candidate;
    unsigned long next_pfn;
    unsigned long round_size[SIM_MAX_ROUNDS];

    unsigned int consults, stop_consult;
    bool capped, stopped;

    libxl__precopy_state eng;
    struct { double win_t; unsigned long win_pages; double bw; } qemu;

    struct sim_oracle *o;        /* SIM_P_ORACLE */
} S;

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unit(uint64_t *x)
{
    return (splitmix(x) >> 11) * (1.0 / 9007199254740992.0);
}

static struct zipf_table *zipf_get(unsigned long n, double s)
{
    static struct zipf_table cache[SIM_MAX_PHASES * 2];
    static unsigned int next;
    struct zipf_table *z;
    unsigned long i, ns = 0, nl = 0, *small, *large;
    double sum = 0, *q;

    for ( i = 0; i < sizeof(cache) / sizeof(cache[0]); i++ )
        if ( cache[i].prob && cache[i].n == n && cache[i].s == s )
            return &cache[i];
    z = &cache[next++ % (sizeof(cache) / sizeof(cache[0]))];
    free(z->prob);
    free(z->alias);
    z->prob = malloc(n * sizeof(*z->prob));
    z->alias = malloc(n * sizeof(*z->alias));
    q = malloc(n * sizeof(*q));
    small = malloc(n * sizeof(*small));
    large = malloc(n * sizeof(*large));
    if ( !z->prob || !z->alias || !q || !small || !large )
        abort();
    z->n = n;
    z->s = s;
    for ( i = 0; i < n; i++ )
        sum += (q[i] = pow(i + 1, -s));
    for ( i = 0; i < n; i++ )
    {
        q[i] *= n / sum;
        if ( q[i] < 1 )
            small[ns++] = i;
        else
            large[nl++] = i;
    }
    while ( ns && nl )
    {
        unsigned long l = small[--ns], g = large[nl - 1];

        z->prob[l] = q[l];
        z->alias[l] = g;
        q[g] -= 1 - q[l];
        if ( q[g] < 1 )
        {
            nl--;
            small[ns++] = g;
        }
    }
    while ( nl )
        z->prob[large[--nl]] = 1, z->alias[large[nl]] = large[nl];
    while ( ns )
        z->prob[small[--ns]] = 1, z->alias[small[ns]] = small[ns];
    free(q);
    free(small);
    free(large);
    return z;
}

static unsigned long zipf_draw(const struct zipf_table *z, uint64_t r)
{
    unsigned long i = (r >> 32) * z->n >> 32;

    return (float)(r & 0xffffffffU) * (1.0f / 4294967296.0f) < z->prob[i]
           ? i : z->alias[i];
}

static double bw_at(double t)
{
    return S.drop_at_s >= 0 && t >= S.drop_at_s ? S.drop_pps : S.link_pps;
}

static unsigned int phase_at(double t)
{
    unsigned int i, p = 0;

    if ( S.wl->cycle_s )
        t = fmod(t, S.wl->cycle_s);
    for ( i = 0; i < S.wl->nr_phases; i++ )
        if ( S.wl->phase[i].start_s <= t )
            p = i;
    return p;
}

/* Rate multiplier for the 100 ms slot holding t: a function of the seed
 * and the time only. */
static double jitter(unsigned int p, double t)
{
    uint64_t x = S.c->seed * 0x100000001b3ULL + (uint64_t)(t / JITTER_S) * 31 + p;
    double j = S.wl->phase[p].jitter_pct / 100;

    return j ? 1 + j * (2 * unit(&x) - 1) : 1;
}

static void write_one(unsigned int p, double t)
{
    unsigned long wss = S.ph[p].wss, base, off;

    base = S.ph[p].offset + (unsigned long)(S.ph[p].drift_pps * t);
    switch ( S.wl->phase[p].dist )
    {
    case SIM_UNIFORM:
        off = splitmix(&S.rng) % wss;
        break;
    case SIM_ZIPF:
        /* Scatter the ranks over the working set. */
        off = (zipf_draw(S.ph[p].z, splitmix(&S.rng)) * 1000003UL) % wss;
        break;
    default:
        off = S.ph[p].cursor++ % wss;
        break;
    }
    fake_guest_write(&fake, (base + off) % S.pages);
    S.dirtied++;
}

/* The guest runs from t0 to t1. */
static void dirty(double t0, double t1)
{
    while ( t0 < t1 )
    {
        double end = (floor(t0 / TICK_S + 1e-9) + 1) * TICK_S, n;
        unsigned int p = phase_at(t0);
        unsigned long i, w;

        if ( end > t1 )
            end = t1;
        n = S.ph[p].rate_pps * jitter(p, t0) * (end - t0) + S.carry;
        w = (unsigned long)n;
        S.carry = n - w;
        for ( i = 0; i < w; i++ )
            write_one(p, t0);
        t0 = end;
    }
}

/* fake_xen hook: a PAGE_DATA record went out. */
static void on_record(struct fake_xen *fx, const uint64_t *pfns,
                      unsigned int count, unsigned long pages)
{
    double dt = pages / bw_at(S.t), t0 = S.t;

    S.t += dt;
    if ( fx->suspended )
    {
        S.stop_s += dt;
        return;
    }
    dirty(t0, S.t);
    if ( count )
        S.next_pfn = (pfns[count - 1] & 0xffffffffULL) + 1;
}

/* fake_xen hook: a CLEAN is about to copy the log (or the guest is about
 * to suspend).  Keep a copy of the round's set, taken into use when the
 * loop starts the round (see sim_policy_cb). */
static void on_clean(struct fake_xen *fx, unsigned int round)
{
    memcpy(S.candidate, fx->pending, bitmap_size(S.pages));
}

/* Pages the stop-and-copy phase would send if precopy stopped now: the
 * round's pfns not sent yet, and every pfn dirtied since the last CLEAN.
 * What QEMU's exact pending count (after a bitmap sync) gives. */
static unsigned long exact_pending(bool midround)
{
    unsigned long i, n = 0, words = bitmap_size(S.pages) / sizeof(long);
    unsigned long first = S.next_pfn / BITS_PER_LONG;

    for ( i = 0; i < words; i++ )
    {
        unsigned long w = fake.pending[i];

        if ( midround && i >= first )
        {
            unsigned long r = S.roundset[i];

            if ( i == first && (S.next_pfn % BITS_PER_LONG) )
                r &= ~0UL << (S.next_pfn % BITS_PER_LONG);
            w |= r;
        }
        n += __builtin_popcountl(w);
    }
    return n;
}

static int qemu_decide(const struct precopy_stats *st)
{
    double pending, threshold;

    if ( st->total_written == 0 && !S.qemu.win_t )
    {
        S.qemu.win_t = S.t;
        S.qemu.win_pages = 0;
    }
    /* Bandwidth over windows of at least 100 ms (BUFFER_DELAY). */
    if ( S.t - S.qemu.win_t >= 0.1 )
    {
        S.qemu.bw = (st->total_written - S.qemu.win_pages) /
                    (S.t - S.qemu.win_t);
        S.qemu.win_t = S.t;
        S.qemu.win_pages = st->total_written;
    }
    threshold = S.qemu.bw * S.c->sla_ms / 1000;

    /* Before a round, stopping would still send the round live: QEMU
     * would have completed at the end of the previous one (the same
     * bitmap, at the same time). */
    if ( st->dirty_count >= 0 && !st->round_remaining )
        return XGS_POLICY_CONTINUE_PRECOPY;
    /* The estimate: what is left of the round (QEMU's bitmap count). */
    pending = st->round_remaining;
    if ( pending >= threshold )
        return XGS_POLICY_CONTINUE_PRECOPY;
    /* Below the threshold: sync for the exact count, as QEMU does. */
    pending = exact_pending(st->round_remaining > 0);
    return pending < threshold ? XGS_POLICY_STOP_AND_COPY
                               : XGS_POLICY_CONTINUE_PRECOPY;
}

static int engine_decide(const struct precopy_stats *st)
{
    libxl__precopy_params p = S.c->engine;

    p.downtime_ms = S.c->sla_ms;
    p.switchover_ms = S.switchover_ms;
    p.guest_pages = S.pages;
    if ( S.c->policy == SIM_P_ENGINE_ABORT )
        p.abort_if_busy = true;
    return libxl__precopy_decide(&p, NULL, &S.eng, st,
                                 (uint64_t)(S.t * 1e9 + 0.5));
}

/*
 * Downtime, in ms, of a stop-and-copy phase of 'pages' starting at t, as
 * on_record() adds it up: batches of MAX_BATCH_SIZE pages, each at the
 * bandwidth of its start.
 */
static double stop_ms(double t, unsigned long pages)
{
    double stop = 0;

    while ( pages )
    {
        unsigned long n = pages < MAX_BATCH_SIZE ? pages : MAX_BATCH_SIZE;
        double dt = n / bw_at(t);

        t += dt;
        stop += dt;
        pages -= n;
    }
    return stop * 1000 + S.switchover_ms;
}

/*
 * The oracle at a consultation: what stopping here would cost.  Stopping
 * before a round sends the round live first, which is stopping after it:
 * that point is taken when the loop gets there.
 */
static void oracle_point(const struct precopy_stats *st, unsigned int k)
{
    struct sim_oracle *o = S.o;
    unsigned long pending;
    unsigned int r = st->iteration;

    if ( (st->dirty_count >= 0 && !st->round_remaining) ||
         o->nr >= SIM_MAX_POINTS )
        return;
    pending = exact_pending(st->round_remaining > 0);
    o->stop[o->nr++] = (struct sim_stop){
        .consult = k,
        .pos = st->round_remaining && r < SIM_MAX_ROUNDS && S.round_size[r]
               ? r + (double)st->round_written / S.round_size[r] : r,
        .pages_sent = st->total_written + pending,
        .downtime_ms = stop_ms(S.t, pending),
    };
}

static int sim_policy_cb(struct precopy_stats st, void *user)
{
    unsigned int k = S.consults++;
    int d;

    /* The loop is about to send a round: take its set. */
    if ( st.dirty_count >= 0 && !st.round_remaining && st.iteration )
    {
        unsigned long *t = S.roundset;

        S.roundset = S.candidate;
        S.candidate = t;
        S.next_pfn = 0;
        if ( st.iteration < SIM_MAX_ROUNDS )
            S.round_size[st.iteration] = st.dirty_count;
    }
    if ( st.dirty_count < 0 && !st.round_remaining )
        S.next_pfn = S.pages;   /* the round is over */

    if ( st.total_written >= S.c->cap_factor * S.pages ||
         st.iteration >= S.c->cap_rounds )
    {
        S.capped = true;
        d = XGS_POLICY_STOP_AND_COPY;
    }
    else switch ( S.c->policy )
    {
    case SIM_P_QEMU:
        d = qemu_decide(&st);
        break;
    case SIM_P_ENGINE:
    case SIM_P_ENGINE_ABORT:
        d = engine_decide(&st);
        break;
    case SIM_P_STOP_AT:
        d = k >= S.c->stop_at ? XGS_POLICY_STOP_AND_COPY
                              : XGS_POLICY_CONTINUE_PRECOPY;
        break;
    case SIM_P_ORACLE:
        oracle_point(&st, k);
        d = XGS_POLICY_CONTINUE_PRECOPY;
        break;
    default:
        d = XGS_POLICY_CONTINUE_PRECOPY;
        break;
    }
    if ( getenv("SIM_DEBUG") )
        fprintf(stderr, "[sim] #%u t=%.4f it=%u dirty=%ld rem=%lu total=%lu "
                "-> %d%s (engine: bw %.0f pred %.1f ms, %s)\n", k, S.t,
                st.iteration, st.dirty_count, st.round_remaining,
                st.total_written, d, S.capped ? " capped" : "", S.eng.rate_pps,
                S.eng.predicted_ms, libxl__precopy_reason_str(S.eng.reason));
    if ( d == XGS_POLICY_STOP_AND_COPY && !S.stopped )
    {
        S.stopped = true;
        S.stop_consult = k;
    }
    return d;
}

/* ------------------------------------------------------------------ */
/* Runs                                                                 */
/* ------------------------------------------------------------------ */

static void sim_setup(const struct sim_config *c)
{
    const struct sim_workload *wl = c->wl;
    double guest_mib = c->guest_mib ? c->guest_mib : wl->guest_mib;
    double link = c->link_mbit ? c->link_mbit : wl->link_mbit;
    unsigned int i;

    free(S.roundset);
    free(S.candidate);
    memset(&S, 0, sizeof(S));
    S.c = c;
    S.wl = wl;
    S.pages = (unsigned long)(guest_mib * MIB_PAGES);
    if ( S.pages < 1 )
        S.pages = 1;
    S.link_pps = link * 1e6 / 8 / PAGE_BYTES;
    S.drop_at_s = wl->link_drop_at_s;
    S.drop_pps = wl->link_drop_mbit * 1e6 / 8 / PAGE_BYTES;
    S.switchover_ms = c->switchover_ms >= 0 ? c->switchover_ms
                                            : wl->switchover_ms;
    S.rng = c->seed * 0x9e3779b97f4a7c15ULL ^ 0x5eed;
    for ( i = 0; wl->name[i]; i++ )
        S.rng = S.rng * 131 + (unsigned char)wl->name[i];

    for ( i = 0; i < wl->nr_phases; i++ )
    {
        const struct sim_phase *p = &wl->phase[i];
        double wss = p->wss_pct >= 0 ? p->wss_pct / 100 * S.pages
                                     : p->wss_mib * MIB_PAGES;

        S.ph[i].wss = wss < 1 ? 1 : wss > S.pages ? S.pages : wss;
        S.ph[i].offset = (unsigned long)(p->offset_mib * MIB_PAGES) % S.pages;
        S.ph[i].rate_pps = p->write_x_link >= 0 ? p->write_x_link * S.link_pps
                                                : p->write_mib_s * MIB_PAGES;
        S.ph[i].drift_pps = p->drift_mib_s * MIB_PAGES;
        S.ph[i].cursor = 0;
        if ( p->dist == SIM_ZIPF )
            S.ph[i].z = zipf_get(S.ph[i].wss, p->zipf_s);
    }

    fake_init(S.pages);
    fake.on_record = on_record;
    fake.workload = on_clean;
    fake.map_reuse = true;
    S.roundset = bitmap_alloc(S.pages);
    S.candidate = bitmap_alloc(S.pages);
    if ( !S.roundset || !S.candidate )
        abort();
    bitmap_set(S.roundset, S.pages);
    S.round_size[0] = S.pages;
    libxl__precopy_state_init(&S.eng);
}

static void sim_finish(struct sim_result *r, int rc, int err)
{
    unsigned int i, last = fake_round(&fake);

    memset(r, 0, sizeof(*r));
    r->rc = rc;
    r->err = err;
    r->aborted = rc && err == ECANCELED;
    r->capped = S.capped;
    r->guest_pages = S.pages;
    r->pages_sent = fake.pages_sent;
    r->stopcopy_pages = fake.sent_stopcopy;
    r->precopy_pages = fake.pages_sent - fake.sent_stopcopy;
    r->dirtied = S.dirtied;
    r->consults = S.consults;
    r->stop_consult = S.stop_consult;
    for ( i = 0; i <= last && i < SIM_MAX_ROUNDS; i++ )
    {
        r->rounds += fake.sent_in_round[i] > 0;
        r->round_size[i] = S.round_size[i];
    }
    if ( last < SIM_MAX_ROUNDS && S.round_size[last] )
        r->stop_pos = last + (double)fake.sent_in_round[last] /
                             S.round_size[last];
    else
        r->stop_pos = last;
    if ( !rc )
    {
        r->downtime_ms = S.stop_s * 1000 + S.switchover_ms;
        r->total_s = S.t + S.switchover_ms / 1000;
        r->stale = fake_stale_pfns(&fake, NULL);
    }
    else
        r->total_s = S.t;
}

int sim_run(const struct sim_config *c, struct sim_result *r)
{
    struct save_callbacks cbs = { 0 };
    int rc, err;

    if ( c->policy == SIM_P_ORACLE )
        return -1;
    sim_setup(c);
    if ( c->policy != SIM_P_XEN )
    {
        /* libxenguest's default policy runs when none is given. */
        cbs.precopy_policy = sim_policy_cb;
        cbs.precopy_policy_batches = c->batches;
    }
    rc = fake_domain_save(&cbs, true, &err);
    sim_finish(r, rc, err);
    fake_fini();
    return 0;
}

int sim_oracle(const struct sim_config *c, struct sim_oracle *o)
{
    struct sim_config cc = *c;
    struct sim_result *r = &o->trace;
    struct save_callbacks cbs = {
        .precopy_policy = sim_policy_cb,
        .precopy_policy_batches = c->batches,
    };
    int rc, err;

    cc.policy = SIM_P_ORACLE;
    o->nr = 0;
    sim_setup(&cc);
    S.o = o;
    rc = fake_domain_save(&cbs, true, &err);
    sim_finish(r, rc, err);
    fake_fini();
    if ( r->rc || r->stale )
        return -1;
    /* The run's own end, at the harness cap, is a stop point too. */
    if ( o->nr < SIM_MAX_POINTS )
        o->stop[o->nr++] = (struct sim_stop){
            .consult = r->stop_consult, .pos = r->stop_pos,
            .pages_sent = r->pages_sent, .downtime_ms = r->downtime_ms,
        };
    return 0;
}

int sim_oracle_verify(const struct sim_config *c, const struct sim_oracle *o,
                      unsigned int i, struct sim_result *r)
{
    struct sim_config cc = *c;
    const struct sim_stop *s = &o->stop[i];

    cc.policy = SIM_P_STOP_AT;
    cc.stop_at = s->consult;
    sim_run(&cc, r);
    if ( r->rc || r->stale || r->pages_sent != s->pages_sent ||
         fabs(r->downtime_ms - s->downtime_ms) > 1e-6 )
        return -1;
    return 0;
}

void sim_model_drive(const struct sim_config *c, double t_s, double step_s,
                     unsigned long *writes, unsigned long *distinct,
                     uint64_t *hash)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    unsigned long pfn, n = 0;
    double t = 0;

    sim_setup(c);
    fake.logdirty = true;
    while ( t < t_s )
    {
        double next = t + step_s < t_s ? t + step_s : t_s;

        dirty(t, next);
        t = next;
    }
    for ( pfn = 0; pfn < S.pages; pfn++ )
    {
        n += test_bit(pfn, fake.pending);
        h = (h ^ fake.version[pfn]) * 0x100000001b3ULL;
    }
    *writes = S.dirtied;
    *distinct = n;
    *hash = h;
    fake_fini();
}

void sim_oracle_choose(const struct sim_oracle *o, double sla_ms,
                       struct sim_choice *ch)
{
    unsigned int i;

    ch->fewest = ch->min_dt = -1;
    for ( i = 0; i < o->nr; i++ )
    {
        const struct sim_stop *s = &o->stop[i];

        if ( ch->min_dt < 0 || s->downtime_ms < o->stop[ch->min_dt].downtime_ms ||
             (s->downtime_ms == o->stop[ch->min_dt].downtime_ms &&
              s->pages_sent < o->stop[ch->min_dt].pages_sent) )
            ch->min_dt = i;
        if ( s->downtime_ms <= sla_ms &&
             (ch->fewest < 0 || s->pages_sent < o->stop[ch->fewest].pages_sent ||
              (s->pages_sent == o->stop[ch->fewest].pages_sent &&
               s->downtime_ms < o->stop[ch->fewest].downtime_ms)) )
            ch->fewest = i;
    }
    ch->feasible = ch->fewest >= 0;
}

void sim_json(FILE *f, const struct sim_config *c, const struct sim_result *r,
              const struct sim_oracle *o, const struct sim_choice *ch)
{
    const char *verdict;

    if ( c->policy == SIM_P_ORACLE )
        verdict = ch->feasible ? "feasible" : "infeasible";
    else if ( r->aborted )
        verdict = "abort";
    else if ( r->rc )
        verdict = "error";
    else
        verdict = r->downtime_ms <= c->sla_ms ? "met" : "missed";

    fprintf(f, "{\"workload\":\"%s\",\"policy\":\"%s\",\"sla_ms\":%g,"
            "\"seed\":%"PRIu64",\"link_mbit\":%g,\"guest_pages\":%lu,"
            "\"rounds\":%u,\"pages_sent\":%lu,\"precopy_pages\":%lu,"
            "\"stopcopy_pages\":%lu,\"downtime_ms\":%.3f,\"total_s\":%.4f,"
            "\"stop_pos\":%.4f,\"capped\":%s,\"verdict\":\"%s\"",
            c->wl->name, sim_policy_name(c->policy), c->sla_ms, c->seed,
            c->link_mbit ? c->link_mbit : c->wl->link_mbit, r->guest_pages,
            r->rounds, r->pages_sent, r->precopy_pages, r->stopcopy_pages,
            r->downtime_ms, r->total_s, r->stop_pos,
            r->capped ? "true" : "false", verdict);
    if ( o && ch )
    {
        fprintf(f, ",\"oracle_feasible\":%s,\"oracle_points\":%u",
                ch->feasible ? "true" : "false", o->nr);
        if ( ch->fewest >= 0 )
            fprintf(f, ",\"oracle_pages\":%lu,\"oracle_pages_downtime_ms\":%.3f",
                    o->stop[ch->fewest].pages_sent,
                    o->stop[ch->fewest].downtime_ms);
        if ( ch->min_dt >= 0 )
            fprintf(f, ",\"oracle_min_downtime_ms\":%.3f,"
                    "\"oracle_min_downtime_pages\":%lu",
                    o->stop[ch->min_dt].downtime_ms,
                    o->stop[ch->min_dt].pages_sent);
    }
    fprintf(f, "}");
}
