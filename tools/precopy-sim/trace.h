/*
 * trace.h - dirty traces: what a guest dirtied, interval by interval, as
 * recorded by xen-dirty-record (record.c) and replayed by precopy-sim.
 * Header-only (static functions), so that the simulator, the recorder and
 * the tests share one reader and one writer without a library.
 *
 * The format (README.md, "Trace files"): the magic, then unsigned LEB128
 * varints to the end of the file.
 *
 *   "XPCTRC1\n"                    8 bytes
 *   p2m_size                       pfns the trace covers (the guest's p2m)
 *   interval_ns                    the recorder's interval (informative)
 *   nr_unpop, nr_unpop x (gap, len - 1)
 *                                  unpopulated pfn ranges, ascending
 *   comment_len, comment_len bytes free text (who recorded what)
 *   then records, to the end of the file:
 *     dt_ns                        time since the previous record (the
 *                                  first: since log-dirty was enabled); > 0
 *     nr_runs, nr_runs x (gap, len - 1)
 *                                  the pfns dirtied in that time, as runs
 *
 * A run starts gap pfns after the end of the previous one (the first: at
 * pfn gap); after the first, gap >= 1 (runs are maximal).  Everything must
 * lie below p2m_size, and the file must end after a whole record.
 */
#ifndef PRECOPY_TRACE_H
#define PRECOPY_TRACE_H

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRACE_MAGIC     "XPCTRC1\n"
#define TRACE_MAGIC_LEN 8
#define TRACE_MAX_UNPOP 64        /* SIM_MAX_UNPOP */
#define TRACE_WORD_BITS (sizeof(unsigned long) * CHAR_BIT)

struct sim_trace {
    char path[256];
    uint64_t p2m_size, interval_ns;
    unsigned int nr_unpop;
    uint64_t unpop[TRACE_MAX_UNPOP][2];     /* start, length */
    char comment[256];
    unsigned long nr_records;
    uint64_t *end_ns;            /* [nr_records] end of each, from the start */
    size_t *off;                 /* [nr_records] where its runs begin */
    unsigned long *nr_pfns;      /* [nr_records] pfns in it */
    unsigned long max_pfns;      /* the largest record */
    uint64_t total_pfns;
    uint8_t *buf;
    size_t len;
};

/* ---------------------------------------------------------------- */
/* Reading                                                            */
/* ---------------------------------------------------------------- */

static int trace_err(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return -1;
}

/* One varint at *pos; 0, or -1 if truncated or over 64 bits. */
static int trace_varint(const uint8_t *buf, size_t len, size_t *pos,
                        uint64_t *v)
{
    uint64_t x = 0;
    unsigned int shift = 0;

    for ( ; ; )
    {
        uint8_t b;

        if ( *pos >= len || shift > 63 )
            return -1;
        b = buf[(*pos)++];
        if ( shift == 63 && (b & 0x7e) )
            return -1;
        x |= (uint64_t)(b & 0x7f) << shift;
        if ( !(b & 0x80) )
            break;
        shift += 7;
    }
    *v = x;
    return 0;
}

/*
 * Walk the runs of a record (or of the unpopulated ranges) at *pos: check
 * them against p2m_size and count their pfns.  If out, store the pfns.
 * Returns 0, or -1 with what is wrong in err.
 */
static int trace_runs(const uint8_t *buf, size_t len, size_t *pos,
                      uint64_t p2m_size, uint64_t *count, uint64_t *out,
                      uint64_t (*ranges)[2], unsigned int max_ranges,
                      unsigned int *nr_ranges, char *err, size_t errsz)
{
    uint64_t nr, i, next = 0, n = 0;

    if ( trace_varint(buf, len, pos, &nr) )
        return trace_err(err, errsz, "truncated");
    if ( ranges && nr > max_ranges )
        return trace_err(err, errsz, "%"PRIu64" ranges, at most %u", nr,
                         max_ranges);
    for ( i = 0; i < nr; i++ )
    {
        uint64_t gap, len1, start, k;

        if ( trace_varint(buf, len, pos, &gap) ||
             trace_varint(buf, len, pos, &len1) )
            return trace_err(err, errsz, "truncated");
        if ( i && !gap )
            return trace_err(err, errsz, "run %"PRIu64" touches the one "
                             "before (gap 0)", i + 1);
        if ( gap > p2m_size - next || len1 >= p2m_size - next - gap )
            return trace_err(err, errsz, "run %"PRIu64" goes past the p2m "
                             "(%"PRIu64" pfns)", i + 1, p2m_size);
        start = next + gap;
        next = start + len1 + 1;
        if ( out )
            for ( k = start; k < next; k++ )
                out[n + k - start] = k;
        if ( ranges )
        {
            ranges[i][0] = start;
            ranges[i][1] = len1 + 1;
        }
        n += len1 + 1;
    }
    *count = n;
    if ( nr_ranges )
        *nr_ranges = nr;
    return 0;
}

static void sim_trace_free(struct sim_trace *t)
{
    free(t->end_ns);
    free(t->off);
    free(t->nr_pfns);
    free(t->buf);
    memset(t, 0, sizeof(*t));
}

/*
 * Parse a trace held in buf (which t takes over, freed by
 * sim_trace_free()).  'name' names it in messages.  Returns 0, or -1 with
 * a message naming the file, the record and the byte offset.
 */
static int sim_trace_parse(struct sim_trace *t, const char *name,
                           uint8_t *buf, size_t len, char *err, size_t errsz)
{
    size_t pos = TRACE_MAGIC_LEN, at, cap = 0;
    uint64_t v, clen, n, now = 0;
    char why[160];

    memset(t, 0, sizeof(*t));
    snprintf(t->path, sizeof(t->path), "%s", name);
    t->buf = buf;
    t->len = len;
    if ( len < TRACE_MAGIC_LEN || memcmp(buf, TRACE_MAGIC, TRACE_MAGIC_LEN) )
    {
        trace_err(err, errsz, "%s: not a dirty trace (no magic "
                  "'XPCTRC1')", name);
        goto fail;
    }
    if ( trace_varint(buf, len, &pos, &t->p2m_size) ||
         trace_varint(buf, len, &pos, &t->interval_ns) )
    {
        trace_err(err, errsz, "%s: header: truncated", name);
        goto fail;
    }
    if ( !t->p2m_size || t->p2m_size > (1ULL << 40) )
    {
        trace_err(err, errsz, "%s: header: p2m_size %"PRIu64" is not in "
                  "1..2^40", name, t->p2m_size);
        goto fail;
    }
    at = pos;
    if ( trace_runs(buf, len, &pos, t->p2m_size, &n, NULL, t->unpop,
                    TRACE_MAX_UNPOP, &t->nr_unpop, why, sizeof(why)) )
    {
        trace_err(err, errsz, "%s: header: unpopulated ranges (byte %zu): "
                  "%s", name, at, why);
        goto fail;
    }
    if ( n >= t->p2m_size )
    {
        trace_err(err, errsz, "%s: header: nothing is populated", name);
        goto fail;
    }
    if ( trace_varint(buf, len, &pos, &clen) || clen > len - pos )
    {
        trace_err(err, errsz, "%s: header: truncated comment", name);
        goto fail;
    }
    snprintf(t->comment, sizeof(t->comment), "%.*s",
             (int)(clen < sizeof(t->comment) ? clen : sizeof(t->comment) - 1),
             (const char *)buf + pos);
    pos += clen;

    while ( pos < len )
    {
        unsigned long k = t->nr_records;

        at = pos;
        if ( trace_varint(buf, len, &pos, &v) )
        {
            trace_err(err, errsz, "%s: record %lu (byte %zu): truncated",
                      name, k + 1, at);
            goto fail;
        }
        if ( !v || v > UINT64_MAX - now )
        {
            trace_err(err, errsz, "%s: record %lu (byte %zu): time step "
                      "%"PRIu64" ns: must be above 0", name, k + 1, at, v);
            goto fail;
        }
        if ( k == cap )
        {
            cap = cap ? cap * 2 : 256;
            if ( !(t->end_ns = realloc(t->end_ns, cap * sizeof(*t->end_ns))) ||
                 !(t->off = realloc(t->off, cap * sizeof(*t->off))) ||
                 !(t->nr_pfns = realloc(t->nr_pfns,
                                        cap * sizeof(*t->nr_pfns))) )
            {
                trace_err(err, errsz, "%s: out of memory", name);
                goto fail;
            }
        }
        now += v;
        t->end_ns[k] = now;
        t->off[k] = pos;
        if ( trace_runs(buf, len, &pos, t->p2m_size, &n, NULL, NULL, 0,
                        NULL, why, sizeof(why)) )
        {
            trace_err(err, errsz, "%s: record %lu (byte %zu): %s", name,
                      k + 1, at, why);
            goto fail;
        }
        t->nr_pfns[k] = n;
        if ( n > t->max_pfns )
            t->max_pfns = n;
        t->total_pfns += n;
        t->nr_records++;
    }
    if ( !t->nr_records )
    {
        trace_err(err, errsz, "%s: no record", name);
        goto fail;
    }
    return 0;

 fail:
    sim_trace_free(t);
    return -1;
}

static int sim_trace_load(struct sim_trace *t, const char *path,
                          char *err, size_t errsz)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, n;

    if ( !f )
        return trace_err(err, errsz, "%s: %s", path, strerror(errno));
    do {
        if ( len == cap )
        {
            uint8_t *nb = realloc(buf, cap = cap ? cap * 2 : 65536);

            if ( !nb )
            {
                free(buf);
                fclose(f);
                return trace_err(err, errsz, "%s: out of memory", path);
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while ( n );
    if ( ferror(f) )
    {
        free(buf);
        fclose(f);
        return trace_err(err, errsz, "%s: cannot read", path);
    }
    fclose(f);
    return sim_trace_parse(t, path, buf, len, err, errsz);
}

/* The pfns of record k, ascending, into out (room for nr_pfns[k]). */
static unsigned long sim_trace_pfns(const struct sim_trace *t,
                                    unsigned long k, uint64_t *out)
{
    size_t pos = t->off[k];
    uint64_t n = 0;
    char why[8];

    trace_runs(t->buf, t->len, &pos, t->p2m_size, &n, out, NULL, 0, NULL,
               why, sizeof(why));       /* checked by sim_trace_parse() */
    return n;
}

/* ---------------------------------------------------------------- */
/* Writing                                                            */
/* ---------------------------------------------------------------- */

struct trace_out {
    FILE *f;
    uint64_t p2m_size;
    uint64_t last_ns;
    unsigned long records;
    uint64_t bytes, pfns;
    uint8_t *buf;                /* one record */
    size_t len, cap;
};

/* Room for n more bytes in the record buffer. */
static int trace_reserve(struct trace_out *o, size_t n)
{
    while ( o->cap - o->len < n )
    {
        size_t cap = o->cap ? o->cap * 2 : 4096;
        uint8_t *nb = realloc(o->buf, cap);

        if ( !nb )
            return -1;
        o->buf = nb;
        o->cap = cap;
    }
    return 0;
}

static int trace_put(struct trace_out *o, uint64_t v)
{
    if ( trace_reserve(o, 10) )
        return -1;
    do {
        o->buf[o->len++] = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
        v >>= 7;
    } while ( v );
    return 0;
}

/* Write out what is buffered, as one piece, and flush it. */
static int trace_flush(struct trace_out *o)
{
    if ( o->len && fwrite(o->buf, 1, o->len, o->f) != o->len )
        return -1;
    o->bytes += o->len;
    o->len = 0;
    return fflush(o->f) ? -1 : 0;
}

static int trace_put_ranges(struct trace_out *o, const uint64_t (*r)[2],
                            unsigned int nr)
{
    uint64_t next = 0;
    unsigned int i;

    if ( trace_put(o, nr) )
        return -1;
    for ( i = 0; i < nr; i++ )
    {
        if ( !r[i][1] || r[i][0] < next || (i && r[i][0] == next) ||
             r[i][1] > o->p2m_size - r[i][0] )
        {
            errno = EINVAL;
            return -1;
        }
        if ( trace_put(o, r[i][0] - next) || trace_put(o, r[i][1] - 1) )
            return -1;
        next = r[i][0] + r[i][1];
    }
    return 0;
}

/*
 * Start a trace on f: the header.  unpop: nr ranges (start, length),
 * ascending, apart.  Returns 0, or -1 with errno.
 */
static int trace_open(struct trace_out *o, FILE *f, uint64_t p2m_size,
                      uint64_t interval_ns, const uint64_t (*unpop)[2],
                      unsigned int nr_unpop, const char *comment)
{
    size_t clen = comment ? strlen(comment) : 0;

    memset(o, 0, sizeof(*o));
    o->f = f;
    o->p2m_size = p2m_size;
    if ( !p2m_size || nr_unpop > TRACE_MAX_UNPOP )
    {
        errno = EINVAL;
        return -1;
    }
    if ( fwrite(TRACE_MAGIC, 1, TRACE_MAGIC_LEN, f) != TRACE_MAGIC_LEN )
        return -1;
    o->bytes = TRACE_MAGIC_LEN;
    if ( trace_put(o, p2m_size) || trace_put(o, interval_ns) ||
         trace_put_ranges(o, unpop, nr_unpop) || trace_put(o, clen) ||
         trace_reserve(o, clen) )
        return -1;
    memcpy(o->buf + o->len, comment, clen);
    o->len += clen;
    return trace_flush(o);
}

/*
 * The next run of set bits of bitmap (p2m_size bits) at or after *pos:
 * [*start, *end), and *pos moves to *end.  False when there is none.
 */
static bool trace_next_run(const struct trace_out *o,
                           const unsigned long *bitmap, uint64_t *pos,
                           uint64_t *start, uint64_t *end)
{
    uint64_t p = *pos, size = o->p2m_size;
    bool want = true;

    for ( ; ; )
    {
        while ( p < size )
        {
            unsigned long x = bitmap[p / TRACE_WORD_BITS];
            unsigned int b = p % TRACE_WORD_BITS;

            if ( !b && x == (want ? 0UL : ~0UL) )
                p += TRACE_WORD_BITS; /* a whole word to skip */
            else if ( (x >> b & 1) == want )
                break;
            else
                p++;
        }
        if ( p > size )
            p = size;
        if ( want )
        {
            if ( p == size )
                return false;
            *start = p;
            want = false;
        }
        else
        {
            *end = *pos = p;
            return true;
        }
    }
}

/*
 * One record: the pfns set in bitmap (p2m_size bits, Xen's layout), dirtied
 * up to t_ns since log-dirty was enabled (t_ns > the previous record's).
 * Returns the number of pfns, or -1 with errno.
 */
static long trace_write_bitmap(struct trace_out *o, uint64_t t_ns,
                               const unsigned long *bitmap)
{
    uint64_t pos, start, end, next = 0, nr_runs = 0, n = 0;

    if ( t_ns <= o->last_ns )
    {
        errno = EINVAL;
        return -1;
    }
    /* The run count goes first: count the runs, then write them. */
    for ( pos = 0; trace_next_run(o, bitmap, &pos, &start, &end); )
        nr_runs++;
    if ( trace_put(o, t_ns - o->last_ns) || trace_put(o, nr_runs) )
        return -1;
    for ( pos = 0; trace_next_run(o, bitmap, &pos, &start, &end); )
    {
        if ( trace_put(o, start - next) || trace_put(o, end - start - 1) )
            return -1;
        n += end - start;
        next = end;
    }
    if ( trace_flush(o) )
        return -1;
    o->last_ns = t_ns;
    o->records++;
    o->pfns += n;
    return n;
}

static void trace_close(struct trace_out *o)
{
    free(o->buf);
    o->buf = NULL;
    o->cap = o->len = 0;
}

#endif
