/*
 * record.c - xen-dirty-record's program, without Xen: see record.h.
 *
 *   xen-dirty-record [-i MS] [-d S] [-c TEXT] -o FILE DOMID
 *
 * Turns log-dirty on for DOMID, and every MS milliseconds reads and
 * clears the log into one record of FILE (a dirty trace, trace.h), for S
 * seconds or until SIGINT/SIGTERM; then turns log-dirty off again.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "record.h"
#include "trace.h"

#define NS_PER_MS       1000000ULL
#define MAX_INTERVAL_MS 60000
#define MAX_DURATION_S  86400
#define DOMID_MAX       0x7fefU       /* DOMID_FIRST_RESERVED - 1 */
#define TYPE_BATCH      1024          /* pfns per type lookup, as the save */

volatile int record_stop;

static void usage(FILE *f)
{
    fprintf(f,
"usage: xen-dirty-record [-i MS] [-d S] [-c TEXT] -o FILE DOMID\n"
"  Records which pages domain DOMID dirties: log-dirty on, then every MS\n"
"  the log is read and cleared into one record of FILE, a dirty trace for\n"
"  precopy-sim -t FILE; log-dirty off at the end.  Not while the domain\n"
"  is being migrated or saved (both use log-dirty).\n"
"  -i, --interval-ms MS   between two reads of the log (1-%d, default 100)\n"
"  -d, --duration-s S     stop after S seconds (default: at SIGINT/SIGTERM)\n"
"  -o, --output FILE      the trace (written record by record)\n"
"  -c, --comment TEXT     kept in the trace's header\n",
            MAX_INTERVAL_MS);
}

/* A decimal number in [min, max], all of s; 0 or -1. */
static int parse_num(const char *s, double min, double max, bool integer,
                     double *v)
{
    char *end;

    if ( !*s || strchr(s, '-') || strchr(s, '+') || (integer &&
         strspn(s, "0123456789") != strlen(s)) )
        return -1;
    errno = 0;
    *v = strtod(s, &end);
    if ( errno || end == s || *end || *v < min || *v > max )
        return -1;
    return 0;
}

/*
 * The unpopulated pfns of a translated guest: the longest TRACE_MAX_UNPOP
 * runs of pfns with no data, ascending.  Shorter runs, if more, are taken
 * as populated: *dropped counts their pfns.
 */
static int find_holes(struct rec_ops *o, uint32_t domid, uint64_t p2m,
                      uint64_t (*r)[2], unsigned int *nr, uint64_t *dropped)
{
    bool nodata[TYPE_BATCH];
    uint64_t pfn, start = 0;
    bool in = false;
    unsigned int i, n = 0;

    *dropped = 0;
    for ( pfn = 0; pfn <= p2m; pfn++ )
    {
        bool hole;

        if ( pfn < p2m && pfn % TYPE_BATCH == 0 )
        {
            unsigned int cnt = p2m - pfn < TYPE_BATCH ? p2m - pfn : TYPE_BATCH;

            if ( o->pfn_nodata(o, domid, pfn, cnt, nodata) )
                return -1;
        }
        hole = pfn < p2m && nodata[pfn % TYPE_BATCH];
        if ( hole && !in )
            start = pfn;
        if ( !hole && in )
        {
            uint64_t len = pfn - start;

            if ( n < TRACE_MAX_UNPOP )
                r[n][0] = start, r[n++][1] = len;
            else
            {
                unsigned int min = 0;

                for ( i = 1; i < n; i++ )
                    if ( r[i][1] < r[min][1] )
                        min = i;
                if ( r[min][1] < len )
                {
                    *dropped += r[min][1];
                    /* Keep them in order: shift the rest down. */
                    memmove(&r[min], &r[min + 1], (n - min - 1) * sizeof(*r));
                    r[n - 1][0] = start;
                    r[n - 1][1] = len;
                }
                else
                    *dropped += len;
            }
        }
        in = hole;
    }
    *nr = n;
    return 0;
}

int record_main(int argc, char **argv, struct rec_ops *ops, FILE *err)
{
    static const struct option lo[] = {
        { "interval-ms", 1, 0, 'i' }, { "duration-s", 1, 0, 'd' },
        { "output", 1, 0, 'o' }, { "comment", 1, 0, 'c' },
        { "help", 0, 0, 'h' }, { 0 },
    };
    double interval_ms = 100, duration_s = 0, v;
    const char *out = NULL, *comment = "";
    uint64_t p2m, dropped = 0, t0, next, deadline = 0, interval, t;
    uint64_t unpop[TRACE_MAX_UNPOP][2];
    unsigned int nr_unpop = 0;
    unsigned long *bitmap = NULL, late = 0;
    uint32_t domid;
    bool hvm, on = false;
    struct trace_out tr = { 0 };
    char text[512];
    FILE *f = NULL;
    int opt, rc = 1;

    optind = 0;                  /* GNU: start afresh (the tests call again) */
    opterr = 0;
    while ( (opt = getopt_long(argc, argv, "i:d:o:c:h", lo, NULL)) != -1 )
    {
        switch ( opt )
        {
        case 'i':
            if ( parse_num(optarg, 1, MAX_INTERVAL_MS, true, &interval_ms) )
            {
                fprintf(err, "xen-dirty-record: --interval-ms: a whole number "
                        "of ms, 1 to %d, not '%s'\n", MAX_INTERVAL_MS, optarg);
                return 2;
            }
            break;
        case 'd':
            if ( parse_num(optarg, 0, MAX_DURATION_S, false, &duration_s) ||
                 duration_s <= 0 )
            {
                fprintf(err, "xen-dirty-record: --duration-s: seconds, above "
                        "0 and at most %d, not '%s'\n", MAX_DURATION_S,
                        optarg);
                return 2;
            }
            break;
        case 'o': out = optarg; break;
        case 'c': comment = optarg; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(err, "xen-dirty-record: unknown option or missing "
                    "value: '%s'\n", argv[optind - 1]);
            usage(err);
            return 2;
        }
    }
    if ( optind != argc - 1 )
    {
        fprintf(err, "xen-dirty-record: give one domain id\n");
        usage(err);
        return 2;
    }
    if ( parse_num(argv[optind], 0, DOMID_MAX, true, &v) )
    {
        fprintf(err, "xen-dirty-record: '%s' is not a domain id (0 to %u)\n",
                argv[optind], DOMID_MAX);
        return 2;
    }
    domid = v;
    if ( !domid )
    {
        fprintf(err, "xen-dirty-record: domain 0 cannot be recorded "
                "(log-dirty is for guests)\n");
        return 2;
    }
    if ( !out )
    {
        fprintf(err, "xen-dirty-record: no output file (-o FILE)\n");
        return 2;
    }
    if ( strlen(comment) > 200 )
    {
        fprintf(err, "xen-dirty-record: --comment: at most 200 characters\n");
        return 2;
    }
    interval = interval_ms * NS_PER_MS;

    if ( ops->open(ops) )
    {
        fprintf(err, "xen-dirty-record: cannot open the Xen control "
                "interface: %s\n", strerror(errno));
        return 1;
    }
    if ( ops->domain(ops, domid, &p2m, &hvm) )
    {
        fprintf(err, "xen-dirty-record: domain %u: %s\n", domid,
                errno == ESRCH ? "no such domain" : strerror(errno));
        goto out;
    }
    if ( !p2m )
    {
        fprintf(err, "xen-dirty-record: domain %u has no memory\n", domid);
        goto out;
    }
    if ( hvm && find_holes(ops, domid, p2m, unpop, &nr_unpop, &dropped) )
    {
        fprintf(err, "xen-dirty-record: domain %u: cannot read its pfn "
                "types: %s\n", domid, strerror(errno));
        goto out;
    }
    if ( !(bitmap = calloc((p2m + TRACE_WORD_BITS - 1) / TRACE_WORD_BITS,
                           sizeof(*bitmap))) )
    {
        fprintf(err, "xen-dirty-record: out of memory\n");
        goto out;
    }
    if ( !(f = fopen(out, "wb")) )
    {
        fprintf(err, "xen-dirty-record: %s: %s\n", out, strerror(errno));
        goto out;
    }
    snprintf(text, sizeof(text), "xen-dirty-record: domain %u (%s), %"PRIu64
             " pfns, every %.0f ms%s%s%s", domid, hvm ? "hvm" : "pv", p2m,
             interval_ms, hvm ? "" : "; pv: no unpopulated ranges looked up",
             comment[0] ? "; " : "", comment);
    if ( dropped )
        snprintf(text + strlen(text), sizeof(text) - strlen(text),
                 "; %"PRIu64" pfns of short holes taken as populated",
                 dropped);
    if ( trace_open(&tr, f, p2m, interval, (const uint64_t (*)[2])unpop,
                    nr_unpop, text) )
    {
        fprintf(err, "xen-dirty-record: %s: %s\n", out, strerror(errno));
        goto out;
    }

    if ( ops->logdirty(ops, domid, true) )
    {
        fprintf(err, "xen-dirty-record: domain %u: cannot turn log-dirty on: "
                "%s (is it being migrated or saved?)\n", domid,
                strerror(errno));
        goto out;
    }
    on = true;
    t0 = ops->now_ns(ops);
    if ( duration_s )
        deadline = t0 + (uint64_t)(duration_s * 1e9 + 0.5);
    next = t0 + interval;
    for ( ; ; )
    {
        if ( deadline && next > deadline )
            next = deadline;
        while ( !record_stop && ops->now_ns(ops) < next )
            ops->sleep_until(ops, next);
        t = ops->now_ns(ops);
        if ( t <= t0 + tr.last_ns )
            break;              /* stopped before any time passed */
        if ( ops->peek_clean(ops, domid, bitmap, p2m) )
        {
            fprintf(err, "xen-dirty-record: domain %u: cannot read the "
                    "log: %s\n", domid, strerror(errno));
            goto out;
        }
        if ( trace_write_bitmap(&tr, t - t0, bitmap) < 0 )
        {
            fprintf(err, "xen-dirty-record: %s: %s\n", out, strerror(errno));
            goto out;
        }
        if ( record_stop || (deadline && t >= deadline) )
            break;
        /* Late by a whole interval (a busy dom0): skip, and say so. */
        if ( t >= next + interval )
        {
            late++;
            next = t + interval;
        }
        else
            next += interval;
    }
    rc = 0;

 out:
    if ( on && ops->logdirty(ops, domid, false) )
    {
        fprintf(err, "xen-dirty-record: domain %u: cannot turn log-dirty "
                "off: %s\n", domid, strerror(errno));
        rc = 1;
    }
    if ( f && fclose(f) && !rc )
    {
        fprintf(err, "xen-dirty-record: %s: %s\n", out, strerror(errno));
        rc = 1;
    }
    if ( !rc )
        fprintf(err, "xen-dirty-record: domain %u: %lu records over %.3f s, "
                "%"PRIu64" dirty pfns, %"PRIu64" bytes, %lu intervals "
                "late\n", domid, tr.records, tr.last_ns / 1e9, tr.pfns,
                tr.bytes, late);
    else if ( f && !on )
        unlink(out);             /* nothing recorded */
    trace_close(&tr);
    free(bitmap);
    ops->close(ops);
    return rc;
}
