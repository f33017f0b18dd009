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

/* An engine with auto-converge: from the simulator's Makefile, or the
 * tests' (which build this file too). */
#if defined(SIM_HAVE_AUTO_CONVERGE) || defined(TEST_HAVE_AUTO_CONVERGE)
#define SIM_AUTO_CONVERGE 1
#endif
#include "trace.h"

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

/* The sections of a file; SEC_GLOBAL is before the first. */
enum sect { SEC_GLOBAL, SEC_WRITER, SEC_PHASE, SEC_LINK, SEC_UNPOP, SEC_NR };
static const char *const sect_name[SEC_NR] = {
    [SEC_WRITER] = "writer", [SEC_PHASE] = "phase", [SEC_LINK] = "link",
    [SEC_UNPOP] = "unpopulated",
};

/* Numeric keys: name, section, where the value goes, whether it may be 0. */
struct key {
    const char *name;
    enum sect sec;
    size_t off;
    bool positive;          /* must be > 0 (else >= 0) */
};

#define GK(n, pos) { #n, SEC_GLOBAL, offsetof(struct sim_workload, n), pos }
#define WK(n, pos) { #n, SEC_WRITER, offsetof(struct sim_writer, n), pos }
#define PK(n, pos) { #n, SEC_PHASE, offsetof(struct sim_phase, n), pos }
#define LK(n, pos) { #n, SEC_LINK, offsetof(struct sim_link, n), pos }
#define UK(n, pos) { #n, SEC_UNPOP, offsetof(struct sim_unpop, n), pos }
static const struct key keys[] = {
    GK(guest_mib, true), GK(link_mbit, true), GK(link_drop_at_s, false),
    GK(link_drop_mbit, true), GK(switchover_ms, false), GK(cycle_s, true),
    GK(link_cycle_s, true),
    GK(cpu_bound, false),
    WK(cycle_s, true), WK(trace_start_s, false), WK(cpu_bound, false),
    PK(start_s, false), PK(wss_mib, true), PK(wss_pct, true),
    PK(offset_mib, false), PK(write_mib_s, false), PK(write_x_link, false),
    PK(zipf_s, true), PK(drift_mib_s, false), PK(jitter_pct, false),
    LK(start_s, true), LK(mbit, true), LK(x_link, true),
    UK(offset_mib, false), UK(offset_pct, false), UK(size_mib, true),
    UK(size_pct, true),
};
/* Keys with a word for a value. */
static const struct { const char *name; enum sect sec; } word_keys[] = {
    { "name", SEC_GLOBAL }, { "dist", SEC_PHASE }, { "trace", SEC_WRITER },
    { "trace_end", SEC_WRITER }, { "trace_order", SEC_WRITER },
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

static void writer_init(struct sim_writer *w, int line)
{
    memset(w, 0, sizeof(*w));
    w->cycle_s = UNSET;
    w->cpu_bound = UNSET;
    w->line = line;
}

/* "[phase] 2" for the writer of a file without [writer], else
 * "[writer] 1, [phase] 2". */
static const char *phase_id(const struct sim_workload *wl, unsigned int w,
                            unsigned int i, char *buf, size_t sz)
{
    if ( wl->writer[w].line )
        snprintf(buf, sz, "[writer] %u, [phase] %u", w + 1, i + 1);
    else
        snprintf(buf, sz, "[phase] %u", i + 1);
    return buf;
}

static int check_phase(const struct sim_workload *wl, unsigned int w,
                       unsigned int i, char *err, size_t errsz)
{
    const struct sim_writer *wr = &wl->writer[w];
    const struct sim_phase *p = &wr->phase[i];
    const char *path = wl->path;
    char id[64];

    phase_id(wl, w, i, id, sizeof(id));
    if ( (int)p->dist < 0 )
        return perr(err, errsz, path, p->line, "%s: missing field 'dist'", id);
    if ( (p->wss_mib == UNSET) == (p->wss_pct == UNSET) )
        return perr(err, errsz, path, p->line,
                    "%s: give exactly one of 'wss_mib', 'wss_pct'", id);
    if ( (p->write_mib_s == UNSET) == (p->write_x_link == UNSET) )
        return perr(err, errsz, path, p->line,
                    "%s: give exactly one of 'write_mib_s', "
                    "'write_x_link'", id);
    if ( p->wss_pct != UNSET && p->wss_pct > 100 )
        return perr(err, errsz, path, p->line,
                    "%s: 'wss_pct' is over 100", id);
    if ( i && p->start_s <= wr->phase[i - 1].start_s )
        return perr(err, errsz, path, p->line,
                    "%s: 'start_s' must be after the previous "
                    "phase's", id);
    if ( wr->cycle_s && p->start_s >= wr->cycle_s )
        return perr(err, errsz, path, p->line,
                    "%s: 'start_s' is not within 'cycle_s'", id);
    return 0;
}

/* Where a key belongs, for the message when it is somewhere else. */
static void key_home(const char *key, const char *first_sect, char *buf,
                     size_t sz)
{
    size_t i, n = 0;
    bool sec[SEC_NR] = { false };
    enum sect s;

    for ( i = 0; i < sizeof(keys) / sizeof(keys[0]); i++ )
        if ( !strcmp(keys[i].name, key) )
            sec[keys[i].sec] = true;
    for ( i = 0; i < sizeof(word_keys) / sizeof(word_keys[0]); i++ )
        if ( !strcmp(word_keys[i].name, key) )
            sec[word_keys[i].sec] = true;
    buf[0] = 0;
    for ( s = SEC_WRITER; s < SEC_NR; s++ )
        if ( sec[s] )
            n += snprintf(buf + n, n < sz ? sz - n : 0, "%sin a [%s]",
                          n ? " or " : "", sect_name[s]);
    if ( sec[SEC_GLOBAL] )
        snprintf(buf + n, n < sz ? sz - n : 0, "%sbefore the first [%s]",
                 n ? " or " : "", first_sect);
}

static bool is_key(const char *key)
{
    size_t i;

    for ( i = 0; i < sizeof(keys) / sizeof(keys[0]); i++ )
        if ( !strcmp(keys[i].name, key) )
            return true;
    for ( i = 0; i < sizeof(word_keys) / sizeof(word_keys[0]); i++ )
        if ( !strcmp(word_keys[i].name, key) )
            return true;
    return false;
}

/* A range in MiB of a guest of guest_mib MiB. */
static void unpop_mib(const struct sim_unpop *u, double guest_mib,
                      double *start, double *size)
{
    *start = u->offset_pct != UNSET ? u->offset_pct / 100 * guest_mib
                                    : u->offset_mib;
    *size = u->size_pct != UNSET ? u->size_pct / 100 * guest_mib
                                 : u->size_mib;
}

/* Load the trace of writer w from path; -1 with the trace's message. */
static int load_trace(struct sim_workload *wl, unsigned int w,
                      const char *path, char *err, size_t errsz)
{
    struct sim_trace *t = calloc(1, sizeof(*t));

    if ( !t )
    {
        snprintf(err, errsz, "%s: out of memory", path);
        return -1;
    }
    if ( sim_trace_load(t, path, err, errsz) )
    {
        free(t);
        return -1;
    }
    wl->traces[w] = t;
    wl->writer[w].trace = t;
    return 0;
}

void sim_workload_free(struct sim_workload *wl)
{
    unsigned int i;

    for ( i = 0; i < SIM_MAX_WRITERS; i++ )
    {
        if ( wl->traces[i] )
        {
            sim_trace_free(wl->traces[i]);
            free(wl->traces[i]);
        }
        wl->traces[i] = NULL;
        wl->writer[i].trace = NULL;
    }
}

/* The checks of a whole file, once it is read; lineno: its last line. */
static int check_workload(struct sim_workload *wl, int lineno,
                          char *err, size_t errsz)
{
    const char *path = wl->path;
    double last_mib = 0;
    unsigned int i, j, w;

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
    if ( wl->link_drop_at_s != UNSET && wl->nr_links )
        return perr(err, errsz, path, wl->link[0].line,
                    "[link] and 'link_drop_at_s': give one or the other");
    if ( wl->link_cycle_s && !wl->nr_links && wl->link_drop_at_s == UNSET )
        return perr(err, errsz, path, lineno,
                    "'link_cycle_s' without a link schedule ([link] or "
                    "'link_drop_at_s')");
    if ( wl->link_cycle_s && wl->link_drop_at_s != UNSET &&
         wl->link_drop_at_s >= wl->link_cycle_s )
        return perr(err, errsz, path, lineno,
                    "'link_drop_at_s' is not within 'link_cycle_s'");
    for ( i = 0; i < wl->nr_links; i++ )
    {
        const struct sim_link *l = &wl->link[i];

        if ( l->start_s == UNSET )
            return perr(err, errsz, path, l->line,
                        "[link] %u: missing field 'start_s'", i + 1);
        if ( (l->mbit == UNSET) == (l->x_link == UNSET) )
            return perr(err, errsz, path, l->line,
                        "[link] %u: give exactly one of 'mbit', 'x_link'",
                        i + 1);
        if ( i && l->start_s <= wl->link[i - 1].start_s )
            return perr(err, errsz, path, l->line,
                        "[link] %u: 'start_s' must be after the previous "
                        "[link]'s", i + 1);
        if ( wl->link_cycle_s && l->start_s >= wl->link_cycle_s )
            return perr(err, errsz, path, l->line,
                        "[link] %u: 'start_s' is not within 'link_cycle_s'",
                        i + 1);
    }

    if ( !wl->nr_writers )
        return perr(err, errsz, path, lineno, "no [phase]: nothing dirties "
                    "memory (an idle guest needs a phase with a low rate)");
    for ( w = 0; w < wl->nr_writers; w++ )
    {
        struct sim_writer *wr = &wl->writer[w];

        if ( wr->cycle_s == UNSET )
            wr->cycle_s = wl->cycle_s;
        if ( wr->cpu_bound == UNSET )
            wr->cpu_bound = wl->cpu_bound;
        if ( wr->cpu_bound > 1 )
            return perr(err, errsz, path, wr->line ? wr->line : lineno,
                        "'cpu_bound' is a share, from 0 to 1 (%g)",
                        wr->cpu_bound);
        if ( wr->trace_path[0] )
        {
            if ( wr->nr_phases )
                return perr(err, errsz, path, wr->phase[0].line,
                            "[writer] %u replays a trace: it has no "
                            "[phase]", w + 1);
            continue;
        }
        if ( wr->trace_start_s )
            return perr(err, errsz, path, wr->line, "[writer] %u: "
                        "'trace_start_s' without 'trace'", w + 1);
        if ( !wr->nr_phases )
            return perr(err, errsz, path, wr->line, "[writer] %u: no "
                        "[phase] and no 'trace': it writes nothing", w + 1);
        for ( i = 0; i < wr->nr_phases; i++ )
        {
            struct sim_phase *p = &wr->phase[i];
            char id[64];

            if ( p->start_s == UNSET )
                p->start_s = i ? -1 : 0;
            if ( i && p->start_s < 0 )
                return perr(err, errsz, path, p->line, "%s: missing field "
                            "'start_s'", phase_id(wl, w, i, id, sizeof(id)));
            if ( !i && p->start_s != 0 )
                return perr(err, errsz, path, p->line, "%s: 'start_s' must "
                            "be 0", phase_id(wl, w, i, id, sizeof(id)));
            if ( check_phase(wl, w, i, err, errsz) )
                return -1;
        }
    }

    /* Unpopulated ranges: within the guest, apart, in increasing order. */
    for ( i = 0; i < wl->nr_unpop; i++ )
    {
        struct sim_unpop *u = &wl->unpop[i];
        double start, size;

        if ( u->offset_mib != UNSET && u->offset_pct != UNSET )
            return perr(err, errsz, path, u->line, "[unpopulated] %u: give "
                        "at most one of 'offset_mib', 'offset_pct'", i + 1);
        if ( u->offset_mib == UNSET && u->offset_pct == UNSET )
            u->offset_mib = 0;
        if ( (u->size_mib == UNSET) == (u->size_pct == UNSET) )
            return perr(err, errsz, path, u->line, "[unpopulated] %u: give "
                        "exactly one of 'size_mib', 'size_pct'", i + 1);
        if ( (u->offset_pct != UNSET && u->offset_pct > 100) ||
             (u->size_pct != UNSET && u->size_pct > 100) )
            return perr(err, errsz, path, u->line, "[unpopulated] %u: a "
                        "percentage is over 100", i + 1);
        unpop_mib(u, wl->guest_mib, &start, &size);
        if ( start + size > wl->guest_mib * (1 + 1e-12) )
            return perr(err, errsz, path, u->line, "[unpopulated] %u: "
                        "ends at %g MiB, past the guest's %g MiB", i + 1,
                        start + size, wl->guest_mib);
        if ( i && start < last_mib )
            return perr(err, errsz, path, u->line, "[unpopulated] %u: "
                        "starts before the end of the previous one (give "
                        "them in increasing order, apart)", i + 1);
        last_mib = start + size;
    }
    {
        double total = 0, start, size;

        for ( j = 0; j < wl->nr_unpop; j++ )
        {
            unpop_mib(&wl->unpop[j], wl->guest_mib, &start, &size);
            total += size;
        }
        if ( wl->nr_unpop && total >= wl->guest_mib )
            return perr(err, errsz, path, wl->unpop[wl->nr_unpop - 1].line,
                        "[unpopulated]: nothing is left populated");
    }
    return 0;
}

static int parse_text(struct sim_workload *wl, const char *path,
                      const char *text, char *err, size_t errsz)
{
    char line[512];
    const char *s = text, *nl, *first_sect = NULL;
    int lineno = 0;
    enum sect sec = SEC_GLOBAL;
    void *cur = wl;              /* where the section's keys go */
    struct sim_writer *wr = NULL;
    unsigned int i;

    memset(wl, 0, sizeof(*wl));
    snprintf(wl->path, sizeof(wl->path), "%s", path);
    wl->guest_mib = wl->link_mbit = UNSET;
    wl->link_drop_at_s = wl->link_drop_mbit = UNSET;
    wl->cpu_bound = 1;

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

        if ( l[0] == '[' )
        {
            enum sect n;

            for ( n = SEC_WRITER; n < SEC_NR; n++ )
                if ( l[strlen(sect_name[n]) + 1] == ']' &&
                     !strncmp(l + 1, sect_name[n], strlen(sect_name[n])) &&
                     !l[strlen(sect_name[n]) + 2] )
                    break;
            if ( n == SEC_NR )
                return perr(err, errsz, path, lineno, "unknown section "
                            "'%s': [writer], [phase], [link] or "
                            "[unpopulated]", l);
            if ( !first_sect )
                first_sect = sect_name[n];
            sec = n;
            switch ( n )
            {
            case SEC_WRITER:
                if ( wl->nr_writers && !wl->writer[0].line )
                    return perr(err, errsz, path, lineno, "[writer] after "
                                "[phase]s of no [writer]: put a [writer] "
                                "before line %d", wl->writer[0].phase[0].line);
                if ( wl->nr_writers == SIM_MAX_WRITERS )
                    return perr(err, errsz, path, lineno,
                                "more than %d writers", SIM_MAX_WRITERS);
                wr = &wl->writer[wl->nr_writers++];
                writer_init(wr, lineno);
                cur = wr;
                break;
            case SEC_PHASE:
                if ( !wr )
                {
                    /* A file without [writer]: one writer, implicit. */
                    wr = &wl->writer[wl->nr_writers++];
                    writer_init(wr, 0);
                }
                if ( wr->nr_phases == SIM_MAX_PHASES )
                    return perr(err, errsz, path, lineno,
                                "more than %d phases", SIM_MAX_PHASES);
                cur = &wr->phase[wr->nr_phases++];
                phase_init(cur, lineno);
                break;
            case SEC_LINK:
                if ( wl->nr_links == SIM_MAX_LINKS )
                    return perr(err, errsz, path, lineno,
                                "more than %d [link]s", SIM_MAX_LINKS);
                cur = &wl->link[wl->nr_links++];
                *(struct sim_link *)cur = (struct sim_link){
                    .start_s = UNSET, .mbit = UNSET, .x_link = UNSET,
                    .line = lineno };
                break;
            default:
                if ( wl->nr_unpop == SIM_MAX_UNPOP )
                    return perr(err, errsz, path, lineno,
                                "more than %d [unpopulated]", SIM_MAX_UNPOP);
                cur = &wl->unpop[wl->nr_unpop++];
                *(struct sim_unpop *)cur = (struct sim_unpop){
                    .offset_mib = UNSET, .offset_pct = UNSET,
                    .size_mib = UNSET, .size_pct = UNSET, .line = lineno };
                break;
            }
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

        for ( i = 0; i < sizeof(keys) / sizeof(keys[0]); i++ )
            if ( !strcmp(keys[i].name, key) && keys[i].sec == sec )
                k = &keys[i];
        if ( !k )
        {
            bool word = false;

            for ( i = 0; i < sizeof(word_keys) / sizeof(word_keys[0]); i++ )
                if ( !strcmp(word_keys[i].name, key) &&
                     word_keys[i].sec == sec )
                    word = true;
            if ( !word )
            {
                char home[160];

                if ( !is_key(key) )
                    return perr(err, errsz, path, lineno, "unknown key '%s'",
                                key);
                key_home(key, first_sect ? first_sect : "phase", home,
                         sizeof(home));
                return perr(err, errsz, path, lineno, "'%s' belongs %s",
                            key, home);
            }
        }

        if ( !strcmp(key, "name") )
        {
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
            struct sim_phase *p = cur;

            if ( !strcmp(val, "uniform") )
                p->dist = SIM_UNIFORM;
            else if ( !strcmp(val, "zipf") )
                p->dist = SIM_ZIPF;
            else if ( !strcmp(val, "seq") )
                p->dist = SIM_SEQ;
            else
                return perr(err, errsz, path, lineno,
                            "'dist' must be uniform, zipf or seq, not '%s'",
                            val);
            continue;
        }
        if ( !strcmp(key, "trace") )
        {
            if ( wr->trace_path[0] )
                return perr(err, errsz, path, lineno, "a second 'trace'");
            if ( strlen(val) >= sizeof(wr->trace_path) )
                return perr(err, errsz, path, lineno, "'trace' is too long");
            strcpy(wr->trace_path, val);
            {
                /* Relative to the workload file's folder. */
                const char *slash = strrchr(path, '/');
                char tpath[512], terr[400];

                if ( val[0] == '/' || !slash )
                    snprintf(tpath, sizeof(tpath), "%s", val);
                else
                    snprintf(tpath, sizeof(tpath), "%.*s/%s",
                             (int)(slash - path), path, val);
                if ( load_trace(wl, wr - wl->writer, tpath, terr,
                                sizeof(terr)) )
                    return perr(err, errsz, path, lineno, "%s", terr);
            }
            continue;
        }
        if ( !strcmp(key, "trace_end") )
        {
            if ( !strcmp(val, "loop") )
                wr->trace_end = SIM_TRACE_LOOP;
            else if ( !strcmp(val, "idle") )
                wr->trace_end = SIM_TRACE_IDLE;
            else
                return perr(err, errsz, path, lineno,
                            "'trace_end' must be loop or idle, not '%s'", val);
            continue;
        }
        if ( !strcmp(key, "trace_order") )
        {
            if ( !strcmp(val, "shuffle") )
                wr->trace_order = SIM_TRACE_SHUFFLE;
            else if ( !strcmp(val, "pfn") )
                wr->trace_order = SIM_TRACE_PFN;
            else
                return perr(err, errsz, path, lineno, "'trace_order' must "
                            "be shuffle or pfn, not '%s'", val);
            continue;
        }

        v = strtod(val, &end);
        if ( end == val || *end || !isfinite(v) )
            return perr(err, errsz, path, lineno,
                        "'%s' is not a number: '%s'", key, val);
        if ( v < 0 )
            return perr(err, errsz, path, lineno,
                        "'%s' must not be negative (%s)", key, val);
        if ( k->positive && v == 0 )
            return perr(err, errsz, path, lineno, "'%s' must be above 0", key);
        *(double *)((char *)cur + k->off) = v;
    }

    return check_workload(wl, lineno, err, errsz);
}

int sim_workload_parse(struct sim_workload *wl, const char *path,
                       const char *text, char *err, size_t errsz)
{
    if ( parse_text(wl, path, text, err, errsz) )
    {
        sim_workload_free(wl);
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

int sim_workload_from_trace(struct sim_workload *wl, const char *trace_path,
                            double link_mbit, double switchover_ms,
                            char *err, size_t errsz)
{
    const char *base = strrchr(trace_path, '/');
    struct sim_trace *t;
    unsigned int i;

    memset(wl, 0, sizeof(*wl));
    snprintf(wl->path, sizeof(wl->path), "%s", trace_path);
    if ( !(link_mbit > 0) )
    {
        snprintf(err, errsz, "%s: replaying a trace needs the link's rate "
                 "(--link-mbit)", trace_path);
        return -1;
    }
    base = base ? base + 1 : trace_path;
    for ( i = 0; base[i] && base[i] != '.' && i < sizeof(wl->name) - 1; i++ )
        wl->name[i] = isalnum((unsigned char)base[i]) ||
                      strchr("-_", base[i]) ? base[i] : '_';
    if ( !i )
        strcpy(wl->name, "trace");
    wl->link_mbit = link_mbit;
    wl->link_drop_at_s = wl->link_drop_mbit = UNSET;
    wl->switchover_ms = switchover_ms >= 0 ? switchover_ms : 0;
    wl->nr_writers = 1;
    writer_init(&wl->writer[0], 0);
    wl->writer[0].cycle_s = 0;
    wl->writer[0].cpu_bound = wl->cpu_bound = 1;
    snprintf(wl->writer[0].trace_path, sizeof(wl->writer[0].trace_path),
             "%s", trace_path);
    if ( load_trace(wl, 0, trace_path, err, errsz) )
        return -1;
    t = wl->traces[0];
    wl->guest_mib = t->p2m_size / MIB_PAGES;
    wl->nr_unpop = t->nr_unpop;
    for ( i = 0; i < t->nr_unpop; i++ )
        wl->unpop[i] = (struct sim_unpop){
            .offset_mib = t->unpop[i][0] / MIB_PAGES, .offset_pct = UNSET,
            .size_mib = t->unpop[i][1] / MIB_PAGES, .size_pct = UNSET,
        };
    return 0;
}

/* ------------------------------------------------------------------ */
/* Policies                                                             */
/* ------------------------------------------------------------------ */

static const char *const policy_names[SIM_P_NR] = {
    [SIM_P_XEN] = "xen-default", [SIM_P_QEMU] = "qemu",
    [SIM_P_ENGINE] = "engine", [SIM_P_ENGINE_ABORT] = "engine-abort",
    [SIM_P_STOP_AT] = "stop-at", [SIM_P_ORACLE] = "oracle",
    [SIM_P_ENGINE_AC] = "engine-ac", [SIM_P_QEMU_AC] = "qemu-ac",
    [SIM_P_ENGINE_BOUND] = "engine-bound",
    [SIM_P_ENGINE_ABORT_BOUND] = "engine-abort-bound",
};

/* The policies which are the engine, and those with a limit of rounds. */
static bool is_engine(enum sim_policy p)
{
    return p == SIM_P_ENGINE || p == SIM_P_ENGINE_ABORT ||
           p == SIM_P_ENGINE_AC || p == SIM_P_ENGINE_BOUND ||
           p == SIM_P_ENGINE_ABORT_BOUND;
}

static bool is_bound(enum sim_policy p)
{
    return p == SIM_P_ENGINE_BOUND || p == SIM_P_ENGINE_ABORT_BOUND;
}

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

/* Zipf over n ranks, drawn in O(1) with Walker's alias method; a rank's
 * probability and alias side by side, one cache line for a draw. */
struct zipf_entry {
    float prob;
    uint32_t alias;
};
struct zipf_table {
    unsigned long n;
    double s;
    struct zipf_entry *e;
};

/*
 * a % d by multiplication (Lemire, Kaser and Kurz, "Faster remainder by
 * direct computation", 2019): exact for every 64-bit a and d, with a
 * 128-bit reciprocal.  The model takes two or three remainders a write.
 */
struct fastmod {
    unsigned __int128 m;
    uint64_t d;
};

static struct fastmod fastmod_init(uint64_t d)
{
    return (struct fastmod){ ~(unsigned __int128)0 / d + 1, d };
}

static inline uint64_t fastmod(const struct fastmod *f, uint64_t a)
{
    unsigned __int128 low = f->m * a;
    unsigned __int128 t = ((unsigned __int128)(uint64_t)low * f->d) >> 64;

    return ((unsigned __int128)(uint64_t)(low >> 64) * f->d + t) >> 64;
}

/* A writer as it runs. */
struct wstate {
    const struct sim_writer *w;
    double carry;                /* a fraction of a write, to the next tick */
    unsigned int salt;           /* of its jitter */
    struct {
        unsigned long wss, offset, cursor;
        struct fastmod wss_mod;
        double rate_pps, drift_pps;
        struct zipf_table *z;
    } ph[SIM_MAX_PHASES];
    /* Trace replay: record rec of loop nr_loop is in progress, over
     * [rec_t0, rec_t1) of the run's time; its pfns, in the order they are
     * written, and how many are written. */
    bool trace_over;
    unsigned long rec, nr, done;
    uint64_t nr_loop;
    double rec_t0, rec_t1;
    uint64_t *pfns;
};

/* A range of pfns, [start, start + len). */
struct range {
    unsigned long start, len;
};

static struct sim {
    const struct sim_config *c;
    const struct sim_workload *wl;
    unsigned long pages;         /* the p2m */
    unsigned long populated;     /* pages of it populated */
    struct fastmod pop_mod;
    unsigned int nr_holes;       /* unpopulated ranges, ascending, apart */
    struct range hole[SIM_MAX_UNPOP];
    double link_pps, switchover_ms;
    /* The link: seg_pps[i] from seg_t[i] on (in each link_cycle_s). */
    unsigned int nr_segs;
    double seg_t[SIM_MAX_LINKS + 1], seg_pps[SIM_MAX_LINKS + 1];
    double link_cycle_s;
    unsigned int nr_writers;
    struct wstate ws[SIM_MAX_WRITERS];

    double t, stop_s;            /* virtual clock; time while suspended */
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
    /* The throttle on the guest's CPU, %, and what it has cost; QEMU's
     * auto-converge: sync periods in which the guest dirtied too much,
     * and what had been sent at the last sync. */
    unsigned int throttle_pct, max_throttle_pct, throttle_steps;
    unsigned int max_throttle_pct_seen;
    double lost_cpu_s;
    unsigned int qemu_high;
    unsigned long qemu_sync_sent;

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
    static struct zipf_table cache[SIM_MAX_PHASES * SIM_MAX_WRITERS];
    static unsigned int next;
    struct zipf_table *z;
    unsigned long i, ns = 0, nl = 0, *small, *large;
    double sum = 0, *q;

    for ( i = 0; i < sizeof(cache) / sizeof(cache[0]); i++ )
        if ( cache[i].e && cache[i].n == n && cache[i].s == s )
            return &cache[i];
    z = &cache[next++ % (sizeof(cache) / sizeof(cache[0]))];
    free(z->e);
    z->e = malloc(n * sizeof(*z->e));
    q = malloc(n * sizeof(*q));
    small = malloc(n * sizeof(*small));
    large = malloc(n * sizeof(*large));
    if ( !z->e || !q || !small || !large )
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

        z->e[l].prob = q[l];
        z->e[l].alias = g;
        q[g] -= 1 - q[l];
        if ( q[g] < 1 )
        {
            nl--;
            small[ns++] = g;
        }
    }
    while ( nl )
        z->e[large[--nl]] = (struct zipf_entry){ 1, large[nl] };
    while ( ns )
        z->e[small[--ns]] = (struct zipf_entry){ 1, small[ns] };
    free(q);
    free(small);
    free(large);
    return z;
}

static inline unsigned long zipf_slot(const struct zipf_table *z, uint64_t r)
{
    return (r >> 32) * z->n >> 32;
}

static inline unsigned long zipf_pick(const struct zipf_table *z, uint64_t r,
                                      unsigned long i)
{
    return (float)(r & 0xffffffffU) * (1.0f / 4294967296.0f) < z->e[i].prob
           ? i : z->e[i].alias;
}

static double bw_at(double t)
{
    unsigned int i = S.nr_segs - 1;

    if ( S.link_cycle_s )
        t = fmod(t, S.link_cycle_s);
    while ( i && S.seg_t[i] > t )
        i--;
    return S.seg_pps[i];
}

static unsigned int phase_at(const struct sim_writer *w, double t)
{
    unsigned int i, p = 0;

    if ( w->cycle_s )
        t = fmod(t, w->cycle_s);
    for ( i = 0; i < w->nr_phases; i++ )
        if ( w->phase[i].start_s <= t )
            p = i;
    return p;
}

/* Rate multiplier for the 100 ms slot holding t: a function of the seed,
 * the time and the phase only. */
static double jitter(const struct wstate *ws, unsigned int p, double t)
{
    uint64_t x = S.c->seed * 0x100000001b3ULL + (uint64_t)(t / JITTER_S) * 31 +
                 p + ws->salt;
    double j = ws->w->phase[p].jitter_pct / 100;

    return j ? 1 + j * (2 * unit(&x) - 1) : 1;
}

/* The pfn of the i-th populated page. */
static inline unsigned long populated_pfn(unsigned long i)
{
    unsigned int h;

    for ( h = 0; h < S.nr_holes && i >= S.hole[h].start; h++ )
        i += S.hole[h].len;
    return i;
}

/* As fake_guest_write(), for a pfn known to be within the guest. */
static inline void guest_write(unsigned long pfn)
{
    fake.version[pfn]++;
    if ( fake.logdirty )
        set_bit(pfn, fake.pending);
}

/*
 * Writer ws, in phase p, writes 'count' pages at time t.  In batches: the
 * draws first, then the pfns, then the writes, each step prefetching what
 * the next one reads (the Zipf table, the pfns' versions), so that a batch
 * waits for memory once, not once per write.  The pages and the order of
 * the random draws are those of one write at a time.
 */
#define WBATCH 64
static void write_many(struct wstate *ws, unsigned int p, double t,
                       unsigned long count)
{
    const struct fastmod *wss = &ws->ph[p].wss_mod;
    unsigned long pop = S.populated, base;
    const struct zipf_table *z = ws->ph[p].z;
    uint64_t r[WBATCH];
    unsigned long pfn[WBATCH], i, n;

    /*
     * (base + off) % pop, with off < wss <= pop: base % pop + off, less
     * pop if it is past it.
     */
    base = fastmod(&S.pop_mod, ws->ph[p].offset +
                               (unsigned long)(ws->ph[p].drift_pps * t));
#define POP(x) ({ unsigned long x_ = (x); x_ >= pop ? x_ - pop : x_; })
    S.dirtied += count;
    for ( ; count; count -= n )
    {
        n = count < WBATCH ? count : WBATCH;
        switch ( ws->w->phase[p].dist )
        {
        case SIM_UNIFORM:
            for ( i = 0; i < n; i++ )
                pfn[i] = POP(base + fastmod(wss, splitmix(&S.rng)));
            break;
        case SIM_ZIPF:
            for ( i = 0; i < n; i++ )
            {
                r[i] = splitmix(&S.rng);
                pfn[i] = zipf_slot(z, r[i]);
                __builtin_prefetch(&z->e[pfn[i]]);
            }
            /* Scatter the ranks over the working set. */
            for ( i = 0; i < n; i++ )
                pfn[i] = POP(base + fastmod(wss, zipf_pick(z, r[i], pfn[i]) *
                                                 1000003UL));
            break;
        default:
            for ( i = 0; i < n; i++ )
                pfn[i] = POP(base + fastmod(wss, ws->ph[p].cursor++));
            break;
        }
#undef POP
        if ( S.nr_holes )
            for ( i = 0; i < n; i++ )
                pfn[i] = populated_pfn(pfn[i]);
        for ( i = 0; i < n; i++ )
            __builtin_prefetch(&fake.version[pfn[i]], 1);
        for ( i = 0; i < n; i++ )
            guest_write(pfn[i]);
    }
}

/*
 * Trace replay: the pfns of a record are written one after the other,
 * evenly over its interval (pfn i of n at t0 + (i + 1/2) / n of it), in a
 * seeded random order (or by pfn).  Record k of loop L covers
 * [L * span + end(k - 1), L * span + end(k)) - trace_start_s of the run.
 */
static double trace_span_s(const struct sim_trace *t)
{
    return t->end_ns[t->nr_records - 1] / 1e9;
}

static void trace_load_record(struct wstate *ws, unsigned int w)
{
    const struct sim_trace *t = ws->w->trace;
    double base = ws->nr_loop * trace_span_s(t) - ws->w->trace_start_s;
    unsigned long i;

    ws->rec_t0 = base + (ws->rec ? t->end_ns[ws->rec - 1] / 1e9 : 0);
    ws->rec_t1 = base + t->end_ns[ws->rec] / 1e9;
    ws->nr = sim_trace_pfns(t, ws->rec, ws->pfns);
    ws->done = 0;
    if ( ws->w->trace_order == SIM_TRACE_SHUFFLE )
    {
        uint64_t x = S.c->seed * 0x9e3779b97f4a7c15ULL ^
                     (ws->rec * 0x100000001b3ULL + ws->nr_loop * 7919 + w);

        for ( i = ws->nr; i > 1; i-- )
        {
            unsigned long j = splitmix(&x) % i;
            uint64_t tmp = ws->pfns[i - 1];

            ws->pfns[i - 1] = ws->pfns[j];
            ws->pfns[j] = tmp;
        }
    }
}

static void trace_next_record(struct wstate *ws, unsigned int w)
{
    if ( ++ws->rec == ws->w->trace->nr_records )
    {
        if ( ws->w->trace_end == SIM_TRACE_IDLE )
        {
            ws->trace_over = true;
            return;
        }
        ws->rec = 0;
        ws->nr_loop++;
    }
    trace_load_record(ws, w);
}

/* Find the record in progress at time 0 of the run. */
static void trace_start(struct wstate *ws, unsigned int w)
{
    const struct sim_trace *t = ws->w->trace;
    double span = trace_span_s(t), t0 = ws->w->trace_start_s;

    ws->pfns = malloc((t->max_pfns ? t->max_pfns : 1) * sizeof(*ws->pfns));
    if ( !ws->pfns )
        abort();
    ws->trace_over = false;
    ws->nr_loop = 0;
    if ( t0 >= span )
    {
        if ( ws->w->trace_end == SIM_TRACE_IDLE )
        {
            ws->trace_over = true;
            return;
        }
        ws->nr_loop = (uint64_t)(t0 / span);
    }
    t0 -= ws->nr_loop * span;
    for ( ws->rec = 0; ws->rec + 1 < t->nr_records &&
                       t->end_ns[ws->rec] / 1e9 <= t0; ws->rec++ )
        ;
    trace_load_record(ws, w);
}

/* The record's pfns due by t: those written before t. */
static unsigned long trace_due(const struct wstate *ws, double t)
{
    double x;

    if ( t >= ws->rec_t1 )
        return ws->nr;
    x = (t - ws->rec_t0) / (ws->rec_t1 - ws->rec_t0) * ws->nr - 0.5;
    if ( x <= 0 )
        return 0;
    x = ceil(x);
    return x < ws->nr ? (unsigned long)x : ws->nr;
}

static void trace_dirty(struct wstate *ws, unsigned int w, double t0,
                        double t1)
{
    while ( !ws->trace_over )
    {
        unsigned long due = trace_due(ws, t1), i;

        /* Before the run started: log-dirty was not on yet. */
        if ( ws->rec_t0 < 0 && !ws->done )
            ws->done = trace_due(ws, 0);
        for ( i = ws->done; i < due; i++ )
        {
            /* sim_config_check() made sure these are populated. */
            guest_write(ws->pfns[i]);
        }
        if ( due > ws->done )
            S.dirtied += due - ws->done;
        ws->done = due > ws->done ? due : ws->done;
        if ( t1 < ws->rec_t1 )
            break;
        trace_next_record(ws, w);
    }
}

/* The guest runs from t0 to t1. */
static void dirty(double t0, double t1)
{
    unsigned int w;

    if ( fake.suspended )
    {
        fprintf(stderr, "precopy-sim: the guest runs while suspended\n");
        abort();
    }
    while ( t0 < t1 )
    {
        double end = (floor(t0 / TICK_S + 1e-9) + 1) * TICK_S, n;

        if ( end > t1 )
            end = t1;
        for ( w = 0; w < S.nr_writers; w++ )
        {
            struct wstate *ws = &S.ws[w];
            unsigned int p;
            unsigned long cnt;

            if ( ws->w->trace )
            {
                trace_dirty(ws, w, t0, end);
                continue;
            }
            p = phase_at(ws->w, t0);
            /* A throttle slows the writes the guest's CPU does. */
            n = ws->ph[p].rate_pps * jitter(ws, p, t0) * (end - t0) *
                (1 - ws->w->cpu_bound * S.throttle_pct / 100.0) +
                ws->carry;
            cnt = (unsigned long)n;
            ws->carry = n - cnt;
            if ( cnt )
                write_many(ws, p, t0, cnt);
        }
        S.lost_cpu_s += S.throttle_pct / 100.0 * (end - t0);
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

/*
 * QEMU's auto-converge with the defaults of its migration parameters
 * (throttle-trigger-threshold 50, cpu-throttle-initial 20,
 * cpu-throttle-increment 10, max-cpu-throttle 99): at each sync of the
 * dirty bitmap (here the end of a round), a period in which the guest
 * dirtied more than 50% of what was sent counts; at the second such
 * period (not necessarily in a row: QEMU waits for two), the throttle
 * starts at 20%, or goes up by 10%, to at most 99% (the bound), and the
 * count starts again.
 */
#define QEMU_THROTTLE_INITIAL   20
#define QEMU_THROTTLE_INCREMENT 10
static void qemu_throttle(const struct precopy_stats *st)
{
    unsigned long sent = st->total_written - S.qemu_sync_sent;

    if ( st->dirty_count >= 0 || st->round_remaining )
        return;
    S.qemu_sync_sent = st->total_written;
    if ( exact_pending(false) * 2 <= sent || ++S.qemu_high < 2 )
        return;
    S.qemu_high = 0;
    S.throttle_pct = S.throttle_pct ? S.throttle_pct + QEMU_THROTTLE_INCREMENT
                                    : QEMU_THROTTLE_INITIAL;
    if ( S.throttle_pct > S.max_throttle_pct )
        S.throttle_pct = S.max_throttle_pct;
}

static int engine_decide(const struct precopy_stats *st)
{
    libxl__precopy_params p = S.c->engine;
    int d;

    p.downtime_ms = S.c->sla_ms;
    p.switchover_ms = S.switchover_ms;
    p.guest_pages = S.populated;   /* as libxl: the domain's memory */
    if ( S.c->policy == SIM_P_ENGINE_ABORT ||
         S.c->policy == SIM_P_ENGINE_ABORT_BOUND )
        p.abort_if_busy = true;
    if ( is_bound(S.c->policy) )
    {
        p.max_rounds = S.c->cap_rounds;
        p.max_factor_pct = (uint32_t)(S.c->cap_factor * 100 + 0.5);
    }
#ifdef SIM_AUTO_CONVERGE
    if ( S.c->policy == SIM_P_ENGINE_AC )
    {
        p.auto_converge = true;
        p.max_throttle_pct = S.max_throttle_pct;
    }
#endif
    d = libxl__precopy_decide(&p, NULL, &S.eng, st,
                              (uint64_t)(S.t * 1e9 + 0.5));
#ifdef SIM_AUTO_CONVERGE
    /* As libxl: the throttle it asks for until the next consultation
     * (the rest of a round in which the engine stops included). */
    if ( S.c->policy == SIM_P_ENGINE_AC )
        S.throttle_pct = S.eng.throttle_pct;
#endif
    return d;
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
        .t_s = S.t,
    };
}

/*
 * More of the engine's state in SIM_DEBUG lines, for a prototype's own
 * fields: an ENGINE_DIR (see Makefile) with a sim_engine_debug.h defining
 * SIM_ENGINE_DEBUG(state) as a string.
 */
#if defined(__has_include)
#if __has_include("sim_engine_debug.h")
#include "sim_engine_debug.h"
#endif
#endif
#ifndef SIM_ENGINE_DEBUG
#define SIM_ENGINE_DEBUG(s) ""
#endif

static int sim_policy_cb(struct precopy_stats st, void *user)
{
    unsigned int k = S.consults++, throttle = S.throttle_pct;
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

    if ( !is_bound(S.c->policy) &&
         (st.total_written >= S.c->cap_factor * S.populated ||
          st.iteration >= S.c->cap_rounds) )
    {
        S.capped = true;
        d = XGS_POLICY_STOP_AND_COPY;
    }
    else switch ( S.c->policy )
    {
    case SIM_P_QEMU:
        d = qemu_decide(&st);
        break;
    case SIM_P_QEMU_AC:
        d = qemu_decide(&st);
        if ( d == XGS_POLICY_CONTINUE_PRECOPY )
            qemu_throttle(&st);
        break;
    case SIM_P_ENGINE:
    case SIM_P_ENGINE_ABORT:
    case SIM_P_ENGINE_AC:
    case SIM_P_ENGINE_BOUND:
    case SIM_P_ENGINE_ABORT_BOUND:
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
    if ( S.throttle_pct != throttle )
    {
        S.throttle_steps++;
        if ( S.throttle_pct > S.max_throttle_pct_seen )
            S.max_throttle_pct_seen = S.throttle_pct;
    }
    if ( getenv("SIM_DEBUG") )
        fprintf(stderr, "[sim] #%u t=%.4f it=%u dirty=%ld rem=%lu total=%lu "
                "-> %d%s (engine: bw %.0f pred %.1f ms%s, %s; throttle "
                "%u%%)\n", k, S.t,
                st.iteration, st.dirty_count, st.round_remaining,
                st.total_written, d, S.capped ? " capped" : "", S.eng.rate_pps,
                S.eng.predicted_ms, SIM_ENGINE_DEBUG(S.eng),
                libxl__precopy_reason_str(S.eng.reason), S.throttle_pct);
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

/* The guest's size, in pages, for c. */
static unsigned long guest_pages_of(const struct sim_config *c)
{
    double mib = c->guest_mib ? c->guest_mib : c->wl->guest_mib;
    unsigned long n = (unsigned long)(mib * MIB_PAGES);

    return n < 1 ? 1 : n;
}

/* The unpopulated ranges of c's guest, in pages, merged; returns how many. */
static unsigned int holes_of(const struct sim_config *c, unsigned long pages,
                             struct range *h)
{
    const struct sim_workload *wl = c->wl;
    double guest_mib = pages / MIB_PAGES;
    unsigned int i, n = 0;

    for ( i = 0; i < wl->nr_unpop; i++ )
    {
        double start, size;
        unsigned long s, l;

        unpop_mib(&wl->unpop[i], guest_mib, &start, &size);
        s = (unsigned long)llround(start * MIB_PAGES);
        l = (unsigned long)llround(size * MIB_PAGES);
        if ( s >= pages )
            continue;
        if ( l > pages - s )
            l = pages - s;
        if ( !l )
            continue;
        if ( n && h[n - 1].start + h[n - 1].len >= s )
            h[n - 1].len = s + l - h[n - 1].start;
        else
            h[n++] = (struct range){ s, l };
    }
    return n;
}

int sim_config_check(const struct sim_config *c, char *err, size_t errsz)
{
    const struct sim_workload *wl = c->wl;
    unsigned long pages = guest_pages_of(c), holes = 0;
    double guest_mib = c->guest_mib ? c->guest_mib : wl->guest_mib;
    struct range h[SIM_MAX_UNPOP];
    unsigned int i, nr, w;

    for ( i = 0; i < wl->nr_unpop; i++ )
    {
        double start, size;

        unpop_mib(&wl->unpop[i], guest_mib, &start, &size);
        if ( start + size > guest_mib * (1 + 1e-12) )
            return perr(err, errsz, wl->path, wl->unpop[i].line,
                        "[unpopulated] %u: ends at %g MiB, past the guest's "
                        "%g MiB", i + 1, start + size, guest_mib);
    }
    nr = holes_of(c, pages, h);
    for ( i = 0; i < nr; i++ )
        holes += h[i].len;
    if ( holes >= pages )
    {
        snprintf(err, errsz, "%s: a guest of %g MiB has nothing populated",
                 wl->path, guest_mib);
        return -1;
    }
    for ( w = 0; w < wl->nr_writers; w++ )
    {
        const struct sim_trace *t = wl->writer[w].trace;
        uint64_t *pfns;
        unsigned long k, j;

        if ( !t )
            continue;
        if ( t->p2m_size > pages )
        {
            snprintf(err, errsz, "%s: the trace covers %"PRIu64" pfns, more "
                     "than the guest's %lu", t->path, t->p2m_size, pages);
            return -1;
        }
        if ( !nr )
            continue;
        pfns = malloc((t->max_pfns ? t->max_pfns : 1) * sizeof(*pfns));
        if ( !pfns )
            abort();
        for ( k = 0; k < t->nr_records; k++ )
        {
            unsigned long n = sim_trace_pfns(t, k, pfns);

            for ( j = 0; j < n; j++ )
                for ( i = 0; i < nr; i++ )
                    if ( pfns[j] >= h[i].start &&
                         pfns[j] - h[i].start < h[i].len )
                    {
                        snprintf(err, errsz, "%s: record %lu writes pfn "
                                 "%#"PRIx64", which the workload has "
                                 "unpopulated", t->path, k + 1, pfns[j]);
                        free(pfns);
                        return -1;
                    }
        }
        free(pfns);
    }
    return 0;
}

static void sim_free_state(void)
{
    unsigned int w;

    free(S.roundset);
    free(S.candidate);
    for ( w = 0; w < SIM_MAX_WRITERS; w++ )
        free(S.ws[w].pfns);
    memset(&S, 0, sizeof(S));
}

/* Set up a run of c; -1 if c does not pass sim_config_check(). */
static int sim_setup(const struct sim_config *c)
{
    const struct sim_workload *wl = c->wl;
    double link = c->link_mbit ? c->link_mbit : wl->link_mbit;
    unsigned long pfn;
    unsigned int i, w;
    char err[512];

    sim_free_state();
    if ( sim_config_check(c, err, sizeof(err)) )
    {
        fprintf(stderr, "precopy-sim: %s\n", err);
        return -1;
    }
    S.c = c;
    S.wl = wl;
    S.pages = guest_pages_of(c);
    S.nr_holes = holes_of(c, S.pages, S.hole);
    S.populated = S.pages;
    for ( i = 0; i < S.nr_holes; i++ )
        S.populated -= S.hole[i].len;
    S.pop_mod = fastmod_init(S.populated);
    S.link_pps = link * 1e6 / 8 / PAGE_BYTES;
    S.seg_t[0] = 0;
    S.seg_pps[0] = S.link_pps;
    S.nr_segs = 1;
    if ( wl->link_drop_at_s >= 0 )
    {
        S.seg_t[1] = wl->link_drop_at_s;
        S.seg_pps[1] = wl->link_drop_mbit * 1e6 / 8 / PAGE_BYTES;
        S.nr_segs = 2;
    }
    for ( i = 0; i < wl->nr_links; i++, S.nr_segs++ )
    {
        const struct sim_link *l = &wl->link[i];

        S.seg_t[S.nr_segs] = l->start_s;
        S.seg_pps[S.nr_segs] = l->mbit >= 0 ? l->mbit * 1e6 / 8 / PAGE_BYTES
                                            : l->x_link * S.link_pps;
    }
    S.link_cycle_s = wl->link_cycle_s;
    S.switchover_ms = c->switchover_ms >= 0 ? c->switchover_ms
                                            : wl->switchover_ms;
    S.rng = c->seed * 0x9e3779b97f4a7c15ULL ^ 0x5eed;
    for ( i = 0; wl->name[i]; i++ )
        S.rng = S.rng * 131 + (unsigned char)wl->name[i];

    S.nr_writers = wl->nr_writers;
    for ( w = 0; w < wl->nr_writers; w++ )
    {
        struct wstate *ws = &S.ws[w];

        ws->w = &wl->writer[w];
        ws->salt = w * SIM_MAX_PHASES;
        if ( ws->w->trace )
        {
            trace_start(ws, w);
            continue;
        }
        for ( i = 0; i < ws->w->nr_phases; i++ )
        {
            const struct sim_phase *p = &ws->w->phase[i];
            double wss = p->wss_pct >= 0 ? p->wss_pct / 100 * S.populated
                                         : p->wss_mib * MIB_PAGES;

            ws->ph[i].wss = wss < 1 ? 1 : wss > S.populated ? S.populated
                                                            : wss;
            ws->ph[i].wss_mod = fastmod_init(ws->ph[i].wss);
            ws->ph[i].offset = (unsigned long)(p->offset_mib * MIB_PAGES) %
                               S.populated;
            ws->ph[i].rate_pps = p->write_x_link >= 0
                                 ? p->write_x_link * S.link_pps
                                 : p->write_mib_s * MIB_PAGES;
            ws->ph[i].drift_pps = p->drift_mib_s * MIB_PAGES;
            ws->ph[i].cursor = 0;
            if ( p->dist == SIM_ZIPF )
                ws->ph[i].z = zipf_get(ws->ph[i].wss, p->zipf_s);
        }
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
    for ( i = 0; i < S.nr_holes; i++ )
        for ( pfn = S.hole[i].start; pfn < S.hole[i].start + S.hole[i].len;
              pfn++ )
        {
            fake_set_hole(&fake, pfn);
            clear_bit(pfn, S.roundset);
        }
    S.round_size[0] = S.populated;
    libxl__precopy_state_init(&S.eng);
    S.max_throttle_pct = c->max_throttle_pct && c->max_throttle_pct < 99
                         ? c->max_throttle_pct : 99;
    S.throttle_pct = c->throttle_pct < S.max_throttle_pct
                     ? c->throttle_pct : S.max_throttle_pct;
    S.max_throttle_pct_seen = S.throttle_pct;
    return 0;
}

/* Unpopulated pfns the guest wrote (none, or the model is wrong). */
static unsigned long hole_writes(void)
{
    unsigned long pfn, n = 0;
    unsigned int i;

    for ( i = 0; i < S.nr_holes; i++ )
        for ( pfn = S.hole[i].start; pfn < S.hole[i].start + S.hole[i].len;
              pfn++ )
            n += fake.version[pfn] != 1;
    return n;
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
    r->populated = S.populated;
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
        r->round_sent[i] = fake.sent_in_round[i];
        if ( fake.sent_in_round[i] )
            r->nr_round_sent = i + 1;
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
    r->hole_writes = hole_writes();
    r->lost_cpu_s = S.lost_cpu_s;
    r->max_throttle_pct = S.max_throttle_pct_seen;
    r->throttle_steps = S.throttle_steps;
    r->reason = is_engine(S.c->policy)
                ? S.capped ? "harness cap" : libxl__precopy_reason_str(S.eng.reason)
                : NULL;
}

int sim_run(const struct sim_config *c, struct sim_result *r)
{
    struct save_callbacks cbs = { 0 };
    int rc, err;

    if ( c->policy == SIM_P_ORACLE || sim_setup(c) )
        return -1;
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
    if ( sim_setup(&cc) )
        return -1;
    S.o = o;
    rc = fake_domain_save(&cbs, true, &err);
    sim_finish(r, rc, err);
    fake_fini();
    if ( r->rc || r->stale || r->hole_writes )
        return -1;
    /* The run's own end, at the harness cap, is a stop point too. */
    if ( o->nr < SIM_MAX_POINTS )
        o->stop[o->nr++] = (struct sim_stop){
            .consult = r->stop_consult, .pos = r->stop_pos,
            .pages_sent = r->pages_sent, .downtime_ms = r->downtime_ms,
            .t_s = r->total_s - r->downtime_ms / 1000,
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
    if ( sim_run(&cc, r) || r->rc || r->stale || r->hole_writes ||
         r->pages_sent != s->pages_sent ||
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

    *writes = *distinct = 0;
    *hash = 0;
    if ( sim_setup(c) )
        return;
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

long sim_model_record(const struct sim_config *c, double t_s,
                      double interval_s, FILE *f)
{
    uint64_t holes[SIM_MAX_UNPOP][2];
    struct trace_out o;
    char comment[160];
    unsigned int i;
    double t = 0;
    long n = 0;

    if ( sim_setup(c) )
    {
        errno = EINVAL;
        return -1;
    }
    for ( i = 0; i < S.nr_holes; i++ )
    {
        holes[i][0] = S.hole[i].start;
        holes[i][1] = S.hole[i].len;
    }
    snprintf(comment, sizeof(comment), "precopy-sim: workload %s, seed %"
             PRIu64, S.wl->name, c->seed);
    if ( trace_open(&o, f, S.pages, (uint64_t)(interval_s * 1e9 + 0.5),
                    (const uint64_t (*)[2])holes, S.nr_holes, comment) )
        n = -1;
    fake.logdirty = true;
    while ( n >= 0 && t < t_s - 1e-12 )
    {
        double next = t + interval_s < t_s ? t + interval_s : t_s;

        dirty(t, next);
        if ( trace_write_bitmap(&o, (uint64_t)(next * 1e9 + 0.5),
                                fake.pending) < 0 )
            n = -1;
        else
            n++;
        bitmap_clear(fake.pending, S.pages);
        t = next;
    }
    trace_close(&o);
    fake_fini();
    return n;
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
    ch->robust = false;
    for ( i = 0; i < o->nr && !ch->robust; )
    {
        unsigned int j, n = 0, ok = 0, r = (unsigned int)o->stop[i].pos;

        for ( j = i; j < o->nr && (unsigned int)o->stop[j].pos == r; j++ )
        {
            n++;
            ok += o->stop[j].downtime_ms <= sla_ms;
        }
        ch->robust = ok * 2 >= n && ok;
        i = j;
    }
}

void sim_json(FILE *f, const struct sim_config *c, const struct sim_result *r,
              const struct sim_oracle *o, const struct sim_choice *ch)
{
    const char *verdict;
    unsigned int i;

    if ( c->policy == SIM_P_ORACLE )
        verdict = ch->feasible ? "feasible" : "infeasible";
    else if ( r->aborted )
        verdict = "abort";
    else if ( r->rc )
        verdict = "error";
    else
        verdict = r->downtime_ms <= c->sla_ms ? "met" : "missed";

    fprintf(f, "{\"workload\":\"%s\",\"policy\":\"%s\",\"sla_ms\":%g,"
            "\"seed\":%"PRIu64",\"link_mbit\":%g,\"guest_mib\":%g,"
            "\"guest_pages\":%lu,\"populated_pages\":%lu,"
            "\"rounds\":%u,\"pages_sent\":%lu,\"precopy_pages\":%lu,"
            "\"stopcopy_pages\":%lu,\"downtime_ms\":%.3f,\"total_s\":%.4f,"
            "\"stop_pos\":%.4f,\"capped\":%s,\"verdict\":\"%s\"",
            c->wl->name, sim_policy_name(c->policy), c->sla_ms, c->seed,
            c->link_mbit ? c->link_mbit : c->wl->link_mbit,
            r->guest_pages / 256.0, r->guest_pages, r->populated,
            r->rounds, r->pages_sent, r->precopy_pages, r->stopcopy_pages,
            r->downtime_ms, r->total_s, r->stop_pos,
            r->capped ? "true" : "false", verdict);
    if ( r->reason )
        fprintf(f, ",\"reason\":\"%s\"", r->reason);
    if ( r->lost_cpu_s || r->max_throttle_pct ||
         c->policy == SIM_P_ENGINE_AC || c->policy == SIM_P_QEMU_AC )
        fprintf(f, ",\"lost_cpu_s\":%.4f,\"max_throttle_pct\":%u,"
                "\"throttle_steps\":%u", r->lost_cpu_s, r->max_throttle_pct,
                r->throttle_steps);
    fprintf(f, ",\"round_pages\":[");
    for ( i = 0; i < r->nr_round_sent; i++ )
        fprintf(f, "%s%lu", i ? "," : "", r->round_sent[i]);
    fprintf(f, "]");
    if ( o && ch )
    {
        fprintf(f, ",\"oracle_feasible\":%s,\"oracle_robust\":%s,"
                "\"oracle_points\":%u", ch->feasible ? "true" : "false",
                ch->robust ? "true" : "false", o->nr);
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
