/*
 * test_record.c - tests of xen-dirty-record (record.c) without Xen: its
 * calls into Xen go to a fake guest with a virtual clock here, which
 * dirties known pages at known times.  The traces it writes are read back
 * with trace.h's reader and checked against what the fake wrote.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "record.h"
#include "trace.h"

#define MS 1000000ULL
#define MAX_P2M 8192

static struct fake {
    uint64_t p2m;
    bool hvm, exists;
    bool hole[MAX_P2M];
    unsigned long log[MAX_P2M / TRACE_WORD_BITS];
    uint64_t now;                /* ns, from an arbitrary start */
    uint64_t start;
    bool on;
    unsigned int ons, offs, cleans, sleeps, type_calls, opens, closes;
    int fail_on;                 /* errno for logdirty(on) */
    unsigned int fail_clean;     /* the n-th CLEAN fails (1-based) */
    unsigned int stop_at_sleep;  /* at this sleep, a signal: half way */
    unsigned int late_sleep;     /* this sleep overshoots by 2.5 ms x 100 */
    /* What the guest wrote: pfn (t - start) / 10ms % 97 * 13 + 1, every
     * 10 ms, and pfn 4000 + t / 100ms. */
    uint64_t written_up_to;
} F;

static void guest_runs_to(uint64_t t)
{
    uint64_t step;

    for ( step = F.written_up_to; step + 10 * MS <= t; step += 10 * MS )
    {
        uint64_t k = (step - F.start) / (10 * MS);
        uint64_t pfns[2] = { k % 97 * 13 + 1, 4000 + k / 10 };
        unsigned int i;

        for ( i = 0; i < 2; i++ )
            if ( F.on && pfns[i] < F.p2m )
                F.log[pfns[i] / TRACE_WORD_BITS] |=
                    1UL << (pfns[i] % TRACE_WORD_BITS);
    }
    F.written_up_to = step;
}

static int f_open(struct rec_ops *o) { F.opens++; return 0; }
static void f_close(struct rec_ops *o) { F.closes++; }

static int f_domain(struct rec_ops *o, uint32_t domid, uint64_t *p2m,
                    bool *hvm)
{
    if ( !F.exists || domid != 5 )
    {
        errno = ESRCH;
        return -1;
    }
    *p2m = F.p2m;
    *hvm = F.hvm;
    return 0;
}

static int f_nodata(struct rec_ops *o, uint32_t domid, uint64_t first,
                    unsigned int n, bool *nodata)
{
    unsigned int i;

    F.type_calls++;
    assert_true(n <= 1024 && first + n <= F.p2m);
    for ( i = 0; i < n; i++ )
        nodata[i] = F.hole[first + i];
    return 0;
}

static int f_logdirty(struct rec_ops *o, uint32_t domid, bool on)
{
    if ( on && F.fail_on )
    {
        errno = F.fail_on;
        return -1;
    }
    if ( on )
    {
        assert_false(F.on);
        F.ons++;
        memset(F.log, 0, sizeof(F.log));
        F.start = F.written_up_to = F.now;
    }
    else
        F.offs++;
    F.on = on;
    return 0;
}

static int f_clean(struct rec_ops *o, uint32_t domid, unsigned long *bitmap,
                   uint64_t p2m)
{
    assert_true(F.on);
    assert_int_equal(p2m, F.p2m);
    if ( ++F.cleans == F.fail_clean )
    {
        errno = EIO;
        return -1;
    }
    guest_runs_to(F.now);
    memcpy(bitmap, F.log, (p2m + TRACE_WORD_BITS - 1) / TRACE_WORD_BITS *
                          sizeof(long));
    memset(F.log, 0, sizeof(F.log));
    return 0;
}

static uint64_t f_now(struct rec_ops *o) { return F.now; }

static void f_sleep(struct rec_ops *o, uint64_t t)
{
    F.sleeps++;
    assert_true(t > F.now);
    if ( F.sleeps == F.stop_at_sleep )
    {
        F.now += (t - F.now) / 2;
        record_stop = 1;
    }
    else if ( F.sleeps == F.late_sleep )
        F.now = t + 250 * MS;
    else
        F.now = t;
}

static struct rec_ops ops = {
    .open = f_open, .close = f_close, .domain = f_domain,
    .pfn_nodata = f_nodata, .logdirty = f_logdirty, .peek_clean = f_clean,
    .now_ns = f_now, .sleep_until = f_sleep,
};

static char trace_path[64], err_text[4096];

static void fake_init(uint64_t p2m, bool hvm)
{
    memset(&F, 0, sizeof(F));
    F.p2m = p2m;
    F.hvm = hvm;
    F.exists = true;
    F.now = 7000 * MS;
    record_stop = 0;
}

/* Run the recorder with these arguments (NULL-terminated); its messages
 * in err_text. */
static int run(const char *first, ...)
{
    char *argv[32];
    int argc = 0, rc;
    va_list ap;
    const char *a;
    FILE *err = fmemopen(err_text, sizeof(err_text), "w");

    assert_non_null(err);
    argv[argc++] = "xen-dirty-record";
    va_start(ap, first);
    for ( a = first; a; a = va_arg(ap, const char *) )
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    memset(err_text, 0, sizeof(err_text));
    rc = record_main(argc, argv, &ops, err);
    fclose(err);
    return rc;
}

static void expect_usage_error(const char *want, const char *first, ...)
{
    /* Up to 6 arguments. */
    const char *a[7] = { first };
    va_list ap;
    int i, rc;

    va_start(ap, first);
    for ( i = 1; i < 7 && a[i - 1]; i++ )
        a[i] = va_arg(ap, const char *);
    va_end(ap);
    fake_init(4096, true);
    rc = run(a[0], a[1], a[2], a[3], a[4], a[5], a[6], NULL);
    assert_int_equal(rc, 2);
    if ( !strstr(err_text, want) )
        fail_msg("'%s' does not say '%s'", err_text, want);
    /* Nothing was asked of Xen. */
    assert_int_equal(F.opens, 0);
    assert_int_equal(F.ons, 0);
}

static void test_arguments(void **state)
{
    const char *o = trace_path;

    expect_usage_error("give one domain id", "-o", o, NULL);
    expect_usage_error("give one domain id", "-o", o, "5", "6", NULL);
    expect_usage_error("'abc' is not a domain id", "-o", o, "abc", NULL);
    expect_usage_error("'-1' is not a domain id", "-o", o, "--", "-1", NULL);
    expect_usage_error("'32752' is not a domain id", "-o", o, "32752", NULL);
    expect_usage_error("'5x' is not a domain id", "-o", o, "5x", NULL);
    expect_usage_error("domain 0 cannot be recorded", "-o", o, "0", NULL);
    expect_usage_error("no output file", "5", NULL);
    expect_usage_error("--interval-ms: a whole number of ms, 1 to 60000, "
                       "not '0'", "-i", "0", "-o", o, "5", NULL);
    expect_usage_error("not '60001'", "-i", "60001", "-o", o, "5", NULL);
    expect_usage_error("not '1.5'", "-i", "1.5", "-o", o, "5", NULL);
    expect_usage_error("--duration-s: seconds, above 0", "-d", "0", "-o", o,
                       "5", NULL);
    expect_usage_error("not 'soon'", "-d", "soon", "-o", o, "5", NULL);
    expect_usage_error("not '-3'", "-d", "-3", "-o", o, "5", NULL);
    expect_usage_error("unknown option or missing value: '--bogus'",
                       "--bogus", "-o", o, "5", NULL);
    expect_usage_error("unknown option or missing value: '-i'", "5", "-i",
                       NULL);
}

static void load(struct sim_trace *t)
{
    char err[512];

    if ( sim_trace_load(t, trace_path, err, sizeof(err)) )
        fail_msg("%s", err);
}

/* The pfns the fake guest wrote in [a, b) ns after log-dirty went on. */
static unsigned long expected(uint64_t a, uint64_t b, uint64_t *out)
{
    bool seen[MAX_P2M] = { false };
    uint64_t step;
    unsigned long n = 0, p;

    for ( step = a / (10 * MS) * (10 * MS); step + 10 * MS <= b;
          step += 10 * MS )
    {
        uint64_t k = step / (10 * MS);

        if ( step < a )
            continue;
        seen[k % 97 * 13 + 1] = true;
        seen[4000 + k / 10] = true;
    }
    for ( p = 0; p < MAX_P2M; p++ )
        if ( seen[p] && p < F.p2m )
            out[n++] = p;
    return n;
}

static void check_records(const struct sim_trace *t)
{
    uint64_t got[MAX_P2M], want[MAX_P2M], prev = 0;
    unsigned long k, n;

    for ( k = 0; k < t->nr_records; k++ )
    {
        n = sim_trace_pfns(t, k, got);
        assert_int_equal(n, t->nr_pfns[k]);
        assert_int_equal(expected(prev, t->end_ns[k], want), n);
        assert_memory_equal(got, want, n * sizeof(*got));
        prev = t->end_ns[k];
    }
}

static void test_record_hvm(void **state)
{
    struct sim_trace t;
    unsigned int k;

    fake_init(5000, true);
    for ( k = 100; k < 300; k++ )
        F.hole[k] = true;
    for ( k = 4096; k < 5000; k++ )
        F.hole[k] = true;
    F.hole[17] = true;
    assert_int_equal(run("-i", "100", "-d", "1", "-c", "memtest at 1000/s",
                         "-o", trace_path, "5", NULL), 0);
    assert_non_null(strstr(err_text, "domain 5: 10 records over 1.000 s"));
    assert_int_equal(F.ons, 1);
    assert_int_equal(F.offs, 1);
    assert_int_equal(F.opens, 1);
    assert_int_equal(F.closes, 1);
    assert_int_equal(F.type_calls, 5);      /* 5000 pfns, 1024 a call */

    load(&t);
    assert_int_equal(t.p2m_size, 5000);
    assert_int_equal(t.interval_ns, 100 * MS);
    assert_int_equal(t.nr_records, 10);
    for ( k = 0; k < 10; k++ )
        assert_int_equal(t.end_ns[k], (k + 1) * 100 * MS);
    assert_int_equal(t.nr_unpop, 3);
    assert_int_equal(t.unpop[0][0], 17);
    assert_int_equal(t.unpop[0][1], 1);
    assert_int_equal(t.unpop[1][0], 100);
    assert_int_equal(t.unpop[1][1], 200);
    assert_int_equal(t.unpop[2][0], 4096);
    assert_int_equal(t.unpop[2][1], 904);
    assert_non_null(strstr(t.comment, "domain 5 (hvm), 5000 pfns, every "
                           "100 ms; memtest at 1000/s"));
    check_records(&t);
    sim_trace_free(&t);

    /* A duration not a multiple of the interval: the last one shorter. */
    fake_init(5000, true);
    assert_int_equal(run("-i", "300", "-d", "1", "-o", trace_path, "5",
                         NULL), 0);
    load(&t);
    assert_int_equal(t.nr_records, 4);
    assert_int_equal(t.end_ns[2], 900 * MS);
    assert_int_equal(t.end_ns[3], 1000 * MS);
    assert_int_equal(t.nr_unpop, 0);
    check_records(&t);
    sim_trace_free(&t);
}

/* PV: no pfn types looked up (its pfns are not what the call takes). */
static void test_record_pv(void **state)
{
    struct sim_trace t;

    fake_init(4096, false);
    F.hole[5] = true;
    assert_int_equal(run("-d", "0.5", "-o", trace_path, "5", NULL), 0);
    assert_int_equal(F.type_calls, 0);
    load(&t);
    assert_int_equal(t.nr_records, 5);
    assert_int_equal(t.nr_unpop, 0);
    assert_non_null(strstr(t.comment, "(pv)"));
    assert_non_null(strstr(t.comment, "pv: no unpopulated ranges"));
    check_records(&t);
    sim_trace_free(&t);
}

/* More holes than a trace holds: the longest are kept, in order. */
static void test_many_holes(void **state)
{
    struct sim_trace t;
    unsigned int i, k;

    fake_init(8192, true);
    /* 100 holes, hole i of (i % 7) + 1 pfns at 80 * i + 2. */
    for ( i = 0; i < 100; i++ )
        for ( k = 0; k < i % 7 + 1; k++ )
            F.hole[80 * i + 2 + k] = true;
    assert_int_equal(run("-d", "0.2", "-o", trace_path, "5", NULL), 0);
    load(&t);
    assert_int_equal(t.nr_unpop, TRACE_MAX_UNPOP);
    for ( i = 0; i < t.nr_unpop; i++ )
    {
        assert_int_equal((t.unpop[i][0] - 2) % 80, 0);
        assert_int_equal(t.unpop[i][1], (t.unpop[i][0] - 2) / 80 % 7 + 1);
        /* Only holes of at least 3 pfns are kept: 100 holes, of 1 to 7
         * pfns in turn, and 64 places. */
        assert_true(t.unpop[i][1] >= 3);
        if ( i )
            assert_true(t.unpop[i][0] > t.unpop[i - 1][0]);
    }
    assert_non_null(strstr(t.comment, "pfns of short holes taken as "
                           "populated"));
    sim_trace_free(&t);
}

/* Failures: log-dirty is left as it was found. */
static void test_failures(void **state)
{
    struct sim_trace t;

    /* No such domain. */
    fake_init(4096, true);
    F.exists = false;
    unlink(trace_path);
    assert_int_equal(run("-d", "1", "-o", trace_path, "5", NULL), 1);
    assert_non_null(strstr(err_text, "domain 5: no such domain"));
    assert_int_equal(F.ons + F.offs, 0);
    assert_int_equal(F.closes, 1);
    assert_int_equal(access(trace_path, F_OK), -1);

    /* Log-dirty already in use (a migration): not touched, no trace. */
    fake_init(4096, true);
    F.fail_on = EBUSY;
    assert_int_equal(run("-d", "1", "-o", trace_path, "5", NULL), 1);
    assert_non_null(strstr(err_text, "cannot turn log-dirty on"));
    assert_non_null(strstr(err_text, "is it being migrated or saved?"));
    assert_int_equal(F.offs, 0);
    assert_int_equal(access(trace_path, F_OK), -1);

    /* The third CLEAN fails: log-dirty off, the two records kept. */
    fake_init(4096, true);
    F.fail_clean = 3;
    assert_int_equal(run("-d", "1", "-o", trace_path, "5", NULL), 1);
    assert_non_null(strstr(err_text, "cannot read the log"));
    assert_int_equal(F.ons, 1);
    assert_int_equal(F.offs, 1);
    assert_false(F.on);
    load(&t);
    assert_int_equal(t.nr_records, 2);
    check_records(&t);
    sim_trace_free(&t);

    /* An unwritable output: before log-dirty goes on. */
    fake_init(4096, true);
    assert_int_equal(run("-d", "1", "-o", "/nonexistent/x.trace", "5", NULL),
                     1);
    assert_non_null(strstr(err_text, "/nonexistent/x.trace: "));
    assert_int_equal(F.ons, 0);
}

/* A signal mid-interval: one last record there, then log-dirty off. */
static void test_signal(void **state)
{
    struct sim_trace t;

    fake_init(4096, true);
    F.stop_at_sleep = 4;
    assert_int_equal(run("-o", trace_path, "5", NULL), 0);
    assert_int_equal(F.offs, 1);
    load(&t);
    assert_int_equal(t.nr_records, 4);
    assert_int_equal(t.end_ns[3], 350 * MS);
    check_records(&t);
    sim_trace_free(&t);
}

/* A sleep that overshoots: the interval it ran into is skipped, said. */
static void test_late(void **state)
{
    struct sim_trace t;

    fake_init(4096, true);
    F.late_sleep = 2;
    assert_int_equal(run("-d", "1", "-o", trace_path, "5", NULL), 0);
    assert_non_null(strstr(err_text, "1 intervals late"));
    load(&t);
    /* 100, 450 (due at 200), then every 100 ms from there, to 1000. */
    assert_int_equal(t.end_ns[0], 100 * MS);
    assert_int_equal(t.end_ns[1], 450 * MS);
    assert_int_equal(t.end_ns[2], 550 * MS);
    assert_int_equal(t.end_ns[t.nr_records - 1], 1000 * MS);
    check_records(&t);
    sim_trace_free(&t);
}

/* The negative control of check_records(): a trace of other pfns fails. */
static void test_check_catches(void **state)
{
    struct sim_trace t;
    uint64_t got[MAX_P2M], want[MAX_P2M];

    fake_init(4096, true);
    assert_int_equal(run("-d", "0.3", "-o", trace_path, "5", NULL), 0);
    load(&t);
    sim_trace_pfns(&t, 1, got);
    /* Record 2 is not what the guest wrote in record 1's time. */
    assert_true(expected(0, t.end_ns[0], want) != t.nr_pfns[1] ||
                memcmp(got, want, t.nr_pfns[1] * sizeof(*got)));
    sim_trace_free(&t);
}

static int setup(void **state)
{
    snprintf(trace_path, sizeof(trace_path), "/tmp/test_record.%d.trace",
             (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    unlink(trace_path);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_record_hvm),
        cmocka_unit_test(test_record_pv),
        cmocka_unit_test(test_many_holes),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_signal),
        cmocka_unit_test(test_late),
        cmocka_unit_test(test_check_catches),
    };

    return cmocka_run_group_tests_name("xen-dirty-record", tests, setup,
                                       teardown);
}
